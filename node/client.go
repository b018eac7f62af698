package node

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/ebsp/ebsp/exchange"
)

// Client calls a node's API. It is what `ebsp enroll | identify | verify`
// and the demo use.
type Client struct {
	BaseURL string // e.g. "https://127.0.0.1:8443"
	Token   string // bearer token; empty when a client certificate is used
	HTTP    *http.Client
}

// NewClient returns a client for a node at baseURL. tlsConfig may be nil
// for plain HTTP on loopback.
func NewClient(baseURL, token string, tlsConfig *tls.Config) *Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsConfig
	tr.MaxIdleConnsPerHost = 64
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), Token: token, HTTP: &http.Client{Transport: tr, Timeout: 60 * time.Second}}
}

// APIError is an error answer of a node.
type APIError struct {
	Status  int
	Code    string
	Message string
	// Sample is the index of the refused sample when the node names one
	// (low_quality, too_few_minutiae): the finger to capture again.
	Sample *int
}

func (e *APIError) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error apiError `json:"error"`
		}
		if json.Unmarshal(data, &e) != nil || e.Error.Code == "" {
			return &APIError{Status: resp.StatusCode, Code: "http", Message: strings.TrimSpace(string(data))}
		}
		return &APIError{Status: resp.StatusCode, Code: e.Error.Code, Message: e.Error.Message, Sample: e.Error.Sample}
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

// Enroll posts an enrolment. When req names no encounter id it gets a
// random one, so that the enrolment is idempotent: a request whose reply
// was lost (connection reset, node killed after the commit) is sent again,
// up to three times, and the node answers the first enrolment's result
// (Replayed) rather than enrolling the person twice.
func (c *Client) Enroll(ctx context.Context, req *EnrolRequest) (*EnrolResponse, error) {
	if req.Encounter.ID == "" {
		r := *req
		r.Encounter.ID = "enc-" + rand.Text()
		req = &r
	}
	var out EnrolResponse
	var err error
	for try := 0; try < 3; try++ {
		if err = c.do(ctx, "POST", "/v1/enrolments", req, &out); err == nil {
			return &out, nil
		}
		var ae *APIError
		if errors.As(err, &ae) && ae.Status != http.StatusServiceUnavailable || ctx.Err() != nil {
			return nil, err // an answer: retrying would get the same
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(time.Duration(try+1) * 500 * time.Millisecond):
		}
	}
	return nil, err
}

// Identify runs a 1:N search.
func (c *Client) Identify(ctx context.Context, req *IdentifyRequest) (*IdentifyResponse, error) {
	var out IdentifyResponse
	return &out, c.do(ctx, "POST", "/v1/identify", req, &out)
}

// Verify runs a 1:1 comparison.
func (c *Client) Verify(ctx context.Context, req *VerifyRequest) (*VerifyResponse, error) {
	var out VerifyResponse
	return &out, c.do(ctx, "POST", "/v1/verify", req, &out)
}

// Ready reports whether the node answers /readyz with 200.
func (c *Client) Ready(ctx context.Context) bool {
	return c.do(ctx, "GET", "/readyz", nil, nil) == nil
}

// Get reads a JSON resource, e.g. "/v1/identities/ID".
func (c *Client) Get(ctx context.Context, path string, out any) error {
	return c.do(ctx, "GET", path, nil, out)
}

// ExchangeSearch runs a step-1 search of a partner's gallery through the
// node.
func (c *Client) ExchangeSearch(ctx context.Context, req *ExchangeSearchRequest) (*exchange.Step1Result, error) {
	var out exchange.Step1Result
	return &out, c.do(ctx, "POST", "/v1/exchange/search", req, &out)
}

// DisclosureCase is the answer to a step-2 request.
type DisclosureCase struct {
	Case     string    `json:"case"`
	Deadline time.Time `json:"deadline"`
}

// RequestDisclosure asks a partner, after a hit, for the agreed data.
func (c *Client) RequestDisclosure(ctx context.Context, req *ExchangeDisclosureRequest) (*DisclosureCase, error) {
	var out DisclosureCase
	return &out, c.do(ctx, "POST", "/v1/exchange/disclosures", req, &out)
}

// DisclosureStatus is how a step-2 request stands, with the release once
// an examiner of the partner confirmed the match.
type DisclosureStatus struct {
	Status  string            `json:"status"`
	Release *exchange.Release `json:"release"`
}

// Disclosure asks how a step-2 request stands.
func (c *Client) Disclosure(ctx context.Context, partner, caseID string) (*DisclosureStatus, error) {
	var out DisclosureStatus
	return &out, c.do(ctx, "GET", "/v1/exchange/disclosures/"+partner+"/"+caseID, nil, &out)
}

// Cases lists the step-2 cases waiting for this node's examiners.
func (c *Client) Cases(ctx context.Context) ([]exchange.ExaminerCase, error) {
	var out struct {
		Cases []exchange.ExaminerCase `json:"cases"`
	}
	return out.Cases, c.do(ctx, "GET", "/v1/exchange/cases", nil, &out)
}

// Decide records the examiner's decision on a case.
func (c *Client) Decide(ctx context.Context, caseID string, confirm bool, candidate string) error {
	return c.do(ctx, "POST", "/v1/exchange/cases/"+caseID, &ExchangeDecision{Confirm: confirm, Candidate: candidate}, nil)
}

// Agreement suspends or reinstates an agreement (action "suspend" or
// "reinstate") and returns the status the node reports.
func (c *Client) Agreement(ctx context.Context, id, action string) (string, error) {
	var out struct{ Status string }
	err := c.do(ctx, "POST", "/v1/exchange/agreements/"+id+"/"+action, nil, &out)
	return out.Status, err
}
