module ferret.test/dapclients/godap

go 1.22

require github.com/google/go-dap v0.12.0
