package simulator_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/oauthsim/oauthsim/simulator"
	"github.com/oauthsim/oauthsim/simulator/clock"
)

// controlWrites are the control API's routes that change the simulator;
// {id} in a path takes a fuzzed id.
var controlWrites = []struct{ method, path string }{
	{http.MethodPost, "/clock"},
	{http.MethodPost, "/grants"},
	{http.MethodPost, "/revocations"},
	{http.MethodPost, "/clients"},
	{http.MethodPut, "/clients/{id}"},
	{http.MethodPost, "/clients/{id}/secret"},
	{http.MethodPost, "/clients/{id}/publishing-status"},
	{http.MethodPost, "/consents"},
	{http.MethodPost, "/users"},
	{http.MethodPost, "/faults"},
	{http.MethodDelete, "/faults"},
	{http.MethodDelete, "/faults/{id}"},
	{http.MethodPost, "/reset"},
}

// FuzzControlAPI sends fuzzed JSON bodies to the control API's write
// routes (picked by route, modulo their number), from a fresh simulator
// each time: none may panic or answer a 5xx, and a refusal is a JSON error.
func FuzzControlAPI(f *testing.F) {
	sim := simulator.MustNew(simulator.WithClock(clock.NewFake(epoch)), simulator.WithEventLimit(1000))
	route := func(path string) uint8 {
		for i, w := range controlWrites {
			if w.path == path {
				return uint8(i)
			}
		}
		f.Fatalf("no write route %s", path)
		return 0
	}
	for _, seed := range []struct {
		path, id, body string
	}{
		{"/clock", "", `{"advance":"61m"}`},
		{"/clock", "", `{"advance":"-106751d"}`},
		{"/clock", "", `{"set":"9999-12-31T23:59:59Z"}`},
		{"/clock", "", `{"set":"0001-01-01T00:00:00Z"}`},
		{"/clock", "", `{"advance":"1h","set":"2026-01-01T00:00:00Z"}`},
		{"/grants", "", `{"client_id":"demo","user":"alice","scope":"openid offline_access"}`},
		{"/grants", "", `{"client_id":"demo","user":"alice","access_type":"offline","redirect_uri":"javascript:alert(1)"}`},
		{"/revocations", "", `{"user":"alice","reason":"password_change"}`},
		{"/revocations", "", `{"all":true,"family":"x","token":"y"}`},
		{"/clients", "", `{"client_id":"qa","client_secret":"s","redirect_uris":["http://127.0.0.1/cb"],"grant_types":["authorization_code","refresh_token"],"scopes":["openid"]}`},
		{"/clients", "", `{"client_id":"","public":true,"grant_types":["client_credentials"]}`},
		{"/clients/{id}", "demo", `{"client_secret":"new","redirect_uris":["http://127.0.0.1/cb"],"token_endpoint_auth_methods":["client_secret_basic"]}`},
		{"/clients/{id}", "a/b", `{"client_id":"a/b"}`},
		{"/clients/{id}/secret", "demo", `{"client_secret":"s2","grace":"1h","expires_in":"106751d"}`},
		{"/clients/{id}/secret", "demo-public", ``},
		{"/clients/{id}/publishing-status", "demo", `{"status":"testing"}`},
		{"/consents", "", `{"user":"alice","client_id":"demo","require":true,"revoke":true}`},
		{"/consents", "", `{"user":"alice","client_id":"demo"}`},
		{"/users", "", `{"id":"carol","name":"Carol"}`},
		{"/users", "", `{"id":""}`},
		{"/faults", "", `{"kind":"rate_limit","limit":1,"per":"1m","match":{"endpoint":"token","nth":3}}`},
		{"/faults", "", `{"kind":"error","status":500,"headers":{"X":"a\r\nSet-Cookie: evil=1"}}`},
		{"/faults", "", `{"kind":"latency","delay":"10000h","match":{"probability":2}}`},
		{"/faults", "", `{"kind":"hang","max":"-1s","id":"h"}`},
		{"/faults", "", `[]`},
		{"/faults/{id}", "f1", ``},
		{"/faults", "", ``},
		{"/reset", "", `{}`},
		{"/users", "", `{"id":"x"} {"id":"y"}`},
		{"/users", "", `{"id":"\u0000\ud800","unknown":1}`},
		{"/grants", "", strings.Repeat(`{"a":`, 10000)},
	} {
		f.Add(route(seed.path), seed.id, []byte(seed.body))
	}
	f.Fuzz(func(t *testing.T, route uint8, id string, body []byte) {
		g := NewWithT(t)
		sim.Reset()
		_, err := sim.SetClock(epoch)
		g.Expect(err).NotTo(HaveOccurred())
		w := controlWrites[int(route)%len(controlWrites)]
		target := simulator.PathControlPrefix + strings.ReplaceAll(w.path, "{id}", url.PathEscape(id))
		req, err := http.NewRequest(w.method, target, strings.NewReader(string(body)))
		if err != nil {
			t.Skipf("no request to %q: %v", target, err)
		}
		req.Header.Set("Content-Type", "application/json")
		rec := serve(sim, req)
		g.Expect(rec.Code).To(BeNumerically("<", 500), "%s %s %q answered %d: %s", w.method, target, body, rec.Code, rec.Body)
		if rec.Code >= 400 {
			var refusal map[string]any
			g.Expect(json.Unmarshal(rec.Body.Bytes(), &refusal)).To(Succeed(), "%s %s %q answered %d: %s", w.method, target, body, rec.Code, rec.Body)
			g.Expect(refusal).To(HaveKeyWithValue("error", Not(BeEmpty())), "%s %s %q answered %s", w.method, target, body, rec.Body)
		}
	})
}
