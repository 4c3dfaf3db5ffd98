module github.com/db7c6739/ws/http2test

go 1.26.0

replace github.com/db7c6739/ws => ../

require (
	github.com/db7c6739/ws v0.0.0
	github.com/stretchr/testify v1.12.1
	golang.org/x/net v0.63.0
)

require (
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/text v0.44.0 // indirect
)
