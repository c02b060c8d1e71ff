package bench

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// Workload is one kind of request a target serves.
type Workload struct {
	Name string
	// Steps gives each of a load's workers its step against t, sharing
	// client.
	Steps func(t *Target, client *http.Client, workers int) (func(worker int) (Step, error), error)
}

// The workloads' names.
const (
	WorkloadRefresh           = "refresh grant, rotating"
	WorkloadClientCredentials = "client_credentials"
	WorkloadAPI               = "GET the API"
)

// Workloads are the three the benchmark compares.
func Workloads(familiesPerWorker int) []Workload {
	return []Workload{
		{Name: WorkloadRefresh, Steps: func(t *Target, c *http.Client, workers int) (func(int) (Step, error), error) {
			return refreshSteps(t, c, workers, familiesPerWorker)
		}},
		{Name: WorkloadClientCredentials, Steps: func(t *Target, c *http.Client, _ int) (func(int) (Step, error), error) {
			return func(int) (Step, error) {
				return func(ctx context.Context) error {
					_, err := token(ctx, c, t, url.Values{"grant_type": {"client_credentials"}, "scope": {"api"}})
					return err
				}, nil
			}, nil
		}},
		{Name: WorkloadAPI, Steps: func(t *Target, c *http.Client, _ int) (func(int) (Step, error), error) {
			return func(int) (Step, error) {
				tok, err := token(context.Background(), c, t, url.Values{"grant_type": {"client_credentials"}, "scope": {"api"}})
				if err != nil {
					return nil, fmt.Errorf("an access token for the API: %w", err)
				}
				return func(ctx context.Context) error {
					req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.URL+t.APIPath, nil)
					if err != nil {
						return err
					}
					req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
					return do(c, req, nil)
				}, nil
			}, nil
		}},
	}
}

// refreshSteps gives each worker familiesPerWorker grants of its own and
// refreshes them in turn, each time with the refresh token the previous
// refresh of that family returned: with strict reuse detection, one stale
// token would revoke the family and fail every later refresh of it.
func refreshSteps(t *Target, c *http.Client, workers, familiesPerWorker int) (func(int) (Step, error), error) {
	all, err := t.Grants(context.Background(), workers*familiesPerWorker)
	if err != nil {
		return nil, err
	}
	return func(worker int) (Step, error) {
		mine := all[worker*familiesPerWorker : (worker+1)*familiesPerWorker]
		next := 0
		return func(ctx context.Context) error {
			i := next
			next = (next + 1) % len(mine)
			tok, err := token(ctx, c, t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {mine[i]}})
			if err != nil {
				return err
			}
			if tok.RefreshToken == "" {
				return errors.New("the refresh answered no refresh token")
			}
			mine[i] = tok.RefreshToken
			return nil
		}, nil
	}, nil
}

type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

// token makes a token request as the demo client (client_secret_basic).
func token(ctx context.Context, c *http.Client, t *Target, form url.Values) (tokenResponse, error) {
	var out tokenResponse
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.URL+t.TokenPath, tokenForm(form))
	if err != nil {
		return out, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, clientSecret)
	err = do(c, req, &out)
	return out, err
}
