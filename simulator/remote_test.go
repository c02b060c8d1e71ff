package simulator_test

import (
	"context"
	"net"
	"net/http"
)

// contextFromRemote makes an in-process request look as if it came over a
// listener from 192.0.2.1, a documentation address that is never dialled.
func contextFromRemote(req *http.Request) context.Context {
	req.RemoteAddr = "192.0.2.1:40000"
	return context.WithValue(req.Context(), http.LocalAddrContextKey, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8090})
}
