package dra

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func checkEncodeMatchesMarshal(t testing.TB, cd CheckpointData) {
	t.Helper()
	got, err := Encode(cd)
	if err != nil {
		t.Fatal(err)
	}
	want, err := encodeMarshal(cd)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Encode differs from encoding/json\n got %s\nwant %s", got, want)
	}
}

func TestEncodeMatchesMarshal(t *testing.T) {
	share := "share-<1>"
	empty := ""
	for _, tc := range []struct {
		reason string
		cd     CheckpointData
	}{
		{reason: "zero value: defaults filled, nil list as null", cd: CheckpointData{}},
		{reason: "empty list", cd: CheckpointData{ClaimInfoStateList: []ClaimInfoState{}}},
		{reason: "own kind and apiVersion", cd: CheckpointData{Kind: "K", APIVersion: "v0"}},
		{reason: "zero claim: nil maps as null", cd: CheckpointData{ClaimInfoStateList: []ClaimInfoState{{}}}},
		{reason: "empty maps, nil and empty slices, omitempty skipNodeOperations", cd: CheckpointData{ClaimInfoStateList: []ClaimInfoState{{
			PodUIDs: map[string]struct{}{},
			DriverState: map[string]DriverState{
				"a": {},
				"b": {Devices: []Device{}, SkipNodeOperations: []string{}},
				"c": {Devices: []Device{{RequestNames: []string{}, ShareID: &empty}}, SkipNodeOperations: []string{"x", "y"}},
			},
		}}}},
		{reason: "map keys sorted byte-wise", cd: CheckpointData{ClaimInfoStateList: []ClaimInfoState{{
			PodUIDs:     map[string]struct{}{"b": {}, "a": {}, "B": {}, "é": {}, "a\x00": {}, "aa": {}},
			DriverState: map[string]DriverState{"z.example.com": {}, "a.example.com": {}, "m": {}},
		}}}},
		{reason: "characters Marshal escapes, in values and keys", cd: CheckpointData{ClaimInfoStateList: []ClaimInfoState{{
			ClaimUID: "<&>\"\\/", ClaimName: "\x00\x01\b\f\n\r\t\x1f\x7f", Namespace: "\u2028\u2029é😀",
			PodUIDs:     map[string]struct{}{"\xff\xfe": {}, "<p>": {}},
			DriverState: map[string]DriverState{"d&\n": {Devices: []Device{{PoolName: "\xc3", DeviceName: "ok", ShareID: &share, CDIDeviceIDs: []string{"\ufffd", "\xed\xa0\x80"}}}}},
		}}}},
	} {
		t.Run(tc.reason, func(t *testing.T) { checkEncodeMatchesMarshal(t, tc.cd) })
	}
}

func TestEncodeMatchesMarshalOnTestdata(t *testing.T) {
	for _, f := range draFiles(t) {
		rel, _ := filepath.Rel(testdata, f)
		t.Run(rel, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if cd, err := decodeSlow(data); cd != nil && err == nil {
				checkEncodeMatchesMarshal(t, *cd)
			}
		})
	}
}

func FuzzEncode(f *testing.F) {
	f.Add("uid", "name", "ns", "pod", "gpu.example.com", "pool", "dev", "req", "cdi", true, false)
	f.Add("<&>", "\u2028", "\xff", "", "a\"b", "\\", "\n", "é", "😀", false, true)
	f.Fuzz(func(t *testing.T, uid, name, ns, pod, driver, pool, dev, req, cdi string, share, skip bool) {
		d := Device{PoolName: pool, DeviceName: dev, RequestNames: []string{req}, CDIDeviceIDs: []string{cdi, req}}
		if share {
			d.ShareID = &cdi
		}
		ds := DriverState{Devices: []Device{d, {}}}
		if skip {
			ds.SkipNodeOperations = []string{uid}
		}
		cd := CheckpointData{Kind: name, ClaimInfoStateList: []ClaimInfoState{{
			ClaimUID: uid, ClaimName: name, Namespace: ns,
			PodUIDs:     map[string]struct{}{pod: {}, uid: {}},
			DriverState: map[string]DriverState{driver: ds, pool: {}},
		}}}
		checkEncodeMatchesMarshal(t, cd)
		// (Encode(Decode(out)) may differ from out: invalid UTF-8 is
		// written as \ufffd and then reads back as U+FFFD.)
		out, _ := Encode(cd)
		if _, err := Decode(out); err != nil {
			t.Fatalf("Decode(Encode(cd)): %v", err)
		}
		checkFastAgrees(t, out)
	})
}
