module github.com/db7c6739/ws/bench

go 1.26

require (
	github.com/coder/websocket v1.8.15
	github.com/db7c6739/ws v0.0.0
	github.com/gobwas/ws v1.5.0
	github.com/gorilla/websocket v1.5.3
	github.com/lxzan/gws v1.8.9
	github.com/stretchr/testify v1.12.1
)

require (
	github.com/dolthub/maphash v0.1.0 // indirect
	github.com/gobwas/httphead v0.1.0 // indirect
	github.com/klauspost/compress v1.17.9 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
)

replace github.com/db7c6739/ws => ../
