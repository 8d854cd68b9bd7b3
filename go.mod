module github.com/tocsin-org/tocsin

go 1.26.8
