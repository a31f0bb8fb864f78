package check

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// DecodeProblem classifies why bytes failed to decode as JSON. The classes
// that point at lost writes (empty, zero-filled, truncated, trailing bytes)
// are kept apart from plain syntax and type errors, because they call for a
// different response from an operator.
type DecodeProblem string

// The decode problems.
const (
	// ProblemEmpty: the file has no bytes (or only white space).
	ProblemEmpty DecodeProblem = "empty"
	// ProblemZeroFilled: every byte is NUL, typical of delayed allocation
	// after a power loss.
	ProblemZeroFilled DecodeProblem = "zero-filled"
	// ProblemTruncated: the document ends before it is complete.
	ProblemTruncated DecodeProblem = "truncated"
	// ProblemTrailing: a complete document is followed by other bytes.
	ProblemTrailing DecodeProblem = "trailing-bytes"
	// ProblemSyntax: the bytes are not JSON.
	ProblemSyntax DecodeProblem = "syntax"
	// ProblemType: the JSON has a value of the wrong type for a field.
	ProblemType DecodeProblem = "type"
	// ProblemContent: the JSON is well formed but its content is not
	// acceptable (a missing section, an unparsable cpuset, ...).
	ProblemContent DecodeProblem = "content"
)

// DecodeError describes bytes that could not be decoded. It wraps
// ErrInvalid and the underlying cause.
type DecodeError struct {
	// Problem classifies the failure.
	Problem DecodeProblem
	// What names the thing being decoded, e.g. "cpu manager checkpoint" or
	// "data string".
	What string
	// Offset is the byte offset where decoding stopped (-1 when unknown).
	Offset int64
	// Size is the number of bytes examined.
	Size int
	// Detail is a human explanation with values.
	Detail string
	// Err is the underlying error, if any.
	Err error
	// cause holds errors wrapped by ContentError's format (%w); they are
	// already part of Detail, so only Unwrap shows them.
	cause error
}

// Error implements error.
func (e *DecodeError) Error() string {
	msg := fmt.Sprintf("%s: %s", e.What, e.Detail)
	if e.Err != nil && e.Problem != ProblemTrailing && e.Problem != ProblemEmpty && e.Problem != ProblemZeroFilled {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns ErrInvalid and the cause, so errors.Is works for both.
func (e *DecodeError) Unwrap() []error {
	errs := []error{ErrInvalid}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	if e.cause != nil {
		errs = append(errs, e.cause)
	}
	return errs
}

// Durability reports whether the problem is the kind a lost or torn write
// leaves behind (empty, zero-filled, truncated, trailing bytes).
func (p DecodeProblem) Durability() bool {
	switch p {
	case ProblemEmpty, ProblemZeroFilled, ProblemTruncated, ProblemTrailing:
		return true
	}
	return false
}

// ContentError returns a DecodeError of class ProblemContent. The format
// may wrap errors with %w; errors.Is and errors.As then find them.
func ContentError(what, format string, args ...any) *DecodeError {
	err := fmt.Errorf(format, args...)
	return &DecodeError{Problem: ProblemContent, What: what, Offset: -1, Detail: err.Error(), cause: errors.Unwrap(err)}
}

// DecodeJSON decodes data into v with encoding/json semantics (the same
// semantics kubelet uses: case-insensitive keys, unknown keys ignored), but
// strictly: only white space may follow the document. On failure it returns
// a *DecodeError that says precisely what is wrong with the bytes.
func DecodeJSON(what string, data []byte, v any) error {
	if p, detail := classifyBlank(data); p != "" {
		return &DecodeError{Problem: p, What: what, Offset: 0, Size: len(data), Detail: detail}
	}
	if bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
		return &DecodeError{Problem: ProblemSyntax, What: what, Offset: 0, Size: len(data),
			Detail: "starts with a UTF-8 byte-order mark (EF BB BF), which encoding/json, and so kubelet, rejects"}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return classifyErr(what, data, dec, err)
	}
	end := dec.InputOffset()
	rest := data[end:]
	if len(bytes.TrimSpace(rest)) != 0 {
		trail := bytes.TrimLeft(rest, " \t\r\n")
		start := end + int64(len(rest)-len(trail))
		return &DecodeError{
			Problem: ProblemTrailing, What: what, Offset: start, Size: len(data),
			Detail: fmt.Sprintf("valid document of %d bytes followed by %d trailing bytes (%s)",
				end, len(trail), Preview(trail, 40)),
		}
	}
	return nil
}

func classifyBlank(data []byte) (DecodeProblem, string) {
	if len(bytes.TrimSpace(data)) == 0 {
		if len(data) == 0 {
			return ProblemEmpty, "empty (0 bytes)"
		}
		return ProblemEmpty, fmt.Sprintf("only white space (%d bytes)", len(data))
	}
	zero := true
	for _, b := range data {
		if b != 0 {
			zero = false
			break
		}
	}
	if zero {
		return ProblemZeroFilled, fmt.Sprintf("all %d bytes are NUL (zero-filled)", len(data))
	}
	return "", ""
}

func classifyErr(what string, data []byte, dec *json.Decoder, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return &DecodeError{Problem: ProblemTruncated, What: what, Offset: int64(len(data)), Size: len(data),
			Detail: fmt.Sprintf("truncated: the document ends at byte %d before it is complete", len(data)), Err: err}
	case errors.As(err, &syn):
		if bytes.IndexByte(data, 0) >= 0 && int(syn.Offset) > 0 && int(syn.Offset) <= len(data) && data[syn.Offset-1] == 0 {
			return &DecodeError{Problem: ProblemZeroFilled, What: what, Offset: syn.Offset - 1, Size: len(data),
				Detail: fmt.Sprintf("NUL bytes from offset %d (zero-filled tail)", syn.Offset-1), Err: err}
		}
		return &DecodeError{Problem: ProblemSyntax, What: what, Offset: syn.Offset, Size: len(data),
			Detail: fmt.Sprintf("not JSON at byte %d", syn.Offset), Err: err}
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "(top level)"
		}
		return &DecodeError{Problem: ProblemType, What: what, Offset: typ.Offset, Size: len(data),
			Detail: fmt.Sprintf("field %s holds a JSON %s where %s is expected", field, typ.Value, typ.Type), Err: err}
	}
	return &DecodeError{Problem: ProblemContent, What: what, Offset: dec.InputOffset(), Size: len(data),
		Detail: "cannot decode", Err: err}
}

// Preview returns at most n bytes of b as a quoted Go string, with "..." when
// cut, for error messages.
func Preview(b []byte, n int) string {
	if len(b) > n {
		return fmt.Sprintf("%q...", b[:n])
	}
	return fmt.Sprintf("%q", b)
}
