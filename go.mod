module github.com/ckptkit/ckpt

go 1.26

require github.com/davecgh/go-spew v1.1.1 // indirect
