package conformance

import (
	"cmp"
	"fmt"
	"sort"

	"github.com/oauthsim/oauthsim/simulator/events"
)

// judgeOwningClient fails every token request that presented a grant's
// token (a refresh token, or a code) with the credentials of another
// client than the one it was issued to: one tenant's token with another
// tenant's app. Which client a grant is issued to comes from the tokens
// the provider minted for it.
func judgeOwningClient(r *Record) Judgement {
	j := Judgement{Applies: len(r.TenantClients) > 0}
	owner := map[string]string{}
	tenantOf := map[string]string{}
	for name, id := range r.TenantClients {
		tenantOf[id] = name
	}
	name := func(client string) string {
		if t := tenantOf[client]; t != "" {
			return fmt.Sprintf("tenant %s's app (%s)", t, client)
		}
		return "client " + client
	}
	for _, e := range r.Events {
		switch {
		case e.Kind == events.TokenIssued && e.Family != "" && e.Client != "":
			if owner[e.Family] == "" {
				owner[e.Family] = e.Client
			}
		case e.Kind == events.TokenRequest && e.Family != "" && e.Client != "":
			// The provider names the owner of a token it refused as
			// another client's; for one it took, the grant's first tokens do.
			issued := cmp.Or(e.Owner, owner[e.Family])
			if issued == "" || issued == e.Client {
				continue
			}
			j.Applies = true
			answer := e.Outcome
			if e.Error != "" {
				answer = fmt.Sprintf("%d %s", e.Status, e.Error)
			}
			j.fail(e, "at %s: a %s request presented a token of a grant issued to %s, for user %s, with the credentials of %s; the provider answered %s",
				offset(r, e.Time), e.GrantType, name(issued), e.User, name(e.Client), answer)
		}
	}
	judgeTenantAPICalls(r, &j, name)
	byEvent(&j)
	return j
}

// byEvent puts j's failures in the order of their events: the API calls
// and the token requests were found in two passes.
func byEvent(j *Judgement) {
	order := make([]int, len(j.Failures))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return j.Events[order[a]] < j.Events[order[b]] })
	failures, evs := make([]string, len(order)), make([]uint64, len(order))
	for i, k := range order {
		failures[i], evs[i] = j.Failures[k], j.Events[k]
	}
	j.Failures, j.Events = failures, evs
}

// judgeTenantAPICalls fails every API request made in a tenant's call with
// an access token of another tenant's grant: the provider takes it, and
// the customer's integration reads another customer's data.
func judgeTenantAPICalls(r *Record, j *Judgement, name func(string) string) {
	if len(r.TenantClients) == 0 {
		return
	}
	for _, s := range r.Steps {
		if s.Step.Call == nil {
			continue
		}
		seen := map[uint64]bool{}
		for _, c := range s.Calls {
			want := r.ClientID
			if c.Tenant != "" {
				want = r.TenantClients[c.Tenant]
			}
			for _, e := range between(r.Events, c.FirstSeq, c.LastSeq) {
				if e.Kind != events.ResourceRequest || e.Client == "" || e.Client == want || seen[e.Seq] {
					continue
				}
				seen[e.Seq] = true
				j.fail(e, "at %s: step %d (line %d, %s) called the API with an access token of %s, for user %s: another customer's grant",
					offset(r, e.Time), s.Index+1, s.Step.Line, s.Step.Summary(), name(e.Client), e.User)
			}
		}
	}
}
