package wug

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/wugsync/wugsync/internal/httpx"
)

// Sentinel errors matched by *APIError through errors.Is.
var (
	// ErrNotFound matches a 404 answer.
	ErrNotFound = errors.New("wug: not found")
	// ErrUnauthorized matches a 401 answer and rejected credentials.
	ErrUnauthorized = errors.New("wug: unauthorized")
	// ErrRateLimited matches a 429 answer.
	ErrRateLimited = errors.New("wug: rate limited")
	// ErrUntrustedCertificate matches a request that failed because WUG's
	// TLS certificate is not trusted: its chain does not verify against the
	// trusted roots (unknown authority, another host name, expired) or it
	// is not the pinned certificate. It is the same value as
	// netbox.ErrUntrustedCertificate; crypto/x509's error stays reachable
	// with errors.As.
	ErrUntrustedCertificate = httpx.ErrUntrustedCertificate
	// ErrOperationFailed matches a 200 answer that reports failure
	// (success:false or errors[]), see *ResultError.
	ErrOperationFailed = errors.New("wug: operation failed")
	// ErrOutcomeUnknown matches the failure of a creating request (a
	// template apply, PATCH /api/v1/devices/-/config/template, or a
	// newDevice scan start) that may or may not have been applied: its
	// answer was lost, late or unreadable, or WUG answered 500, 502 or 504.
	// Look (Devices.FindByAddress, Scans.Active) before sending it again,
	// since a repeat creates again. The error also carries the cause, such
	// as the *APIError.
	//
	// Error statuses count by what they say about the request: 429 and 503
	// are refusals before any work (WUG's throttle, or IIS with the
	// application pool stopped), so the HTTP layer retries them and they
	// never match; a 500 can come after WUG created the device, and a
	// gateway's 502 or 504 hides whether WUG behind it acted, so those
	// match; any other 4xx, 408 included, refuses the request as sent and
	// does not match.
	ErrOutcomeUnknown = errors.New("outcome unknown, the request may have been applied")
)

// outcomeUnknown marks err, the failure of a creating request that may
// have reached WUG, as matching ErrOutcomeUnknown while keeping its cause.
func outcomeUnknown(err error) error {
	return fmt.Errorf("%w (%w)", err, ErrOutcomeUnknown)
}

// beforeSendError is a failure that happened before the request was sent,
// such as a failed login, so WUG cannot have acted on the request.
type beforeSendError struct{ err error }

func (e *beforeSendError) Error() string { return e.err.Error() }
func (e *beforeSendError) Unwrap() error { return e.err }

// APIError is a non-2xx answer from WUG, or a 2xx answer that is not the
// shape its operation promises (see Malformed). It never holds request
// headers or bodies; URL is sanitized.
type APIError struct {
	// StatusCode is the HTTP status.
	StatusCode int
	// Method and URL identify the request.
	Method string
	URL    string
	// Code is WUG's error code (error.code, or the OAuth error such as "invalid_grant").
	Code string
	// Message is WUG's message (error.message or error_description).
	Message string
	// Malformed says how a 2xx answer missed the shape its operation
	// promises: an "error" or "errors" envelope, no "data", a list that is
	// not a list, a body that is not JSON. It is empty for a non-2xx answer.
	Malformed string
}

// Error renders the status, request and WUG's message.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %d %s", e.Method, e.URL, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Malformed != "" {
		fmt.Fprintf(&b, ": %s", e.Malformed)
	}
	if e.Code != "" {
		fmt.Fprintf(&b, ": %s", e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	return b.String()
}

// Is reports whether e matches one of the package's sentinel errors.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	}
	return false
}

// maxErrorText bounds the raw body text kept in an APIError.
const maxErrorText = 200

// parseErrorBody extracts WUG's code and message from an error body in any
// of the shapes seen: {"error":{"code","message"}}, the OAuth
// {"error","error_description"}, {"message"} / {"Message"}, or plain text.
func parseErrorBody(body []byte) (code, msg string) {
	var v struct {
		Error            json.RawMessage `json:"error"`
		Errors           json.RawMessage `json:"errors"`
		ErrorDescription string          `json:"error_description"`
		Message          string          `json:"message"`
	}
	if json.Unmarshal(body, &v) == nil {
		var nested errorEntry
		var flat string
		switch {
		case json.Unmarshal(v.Error, &nested) == nil && (nested.Code != "" || nested.Message != ""):
			return nested.Code, nested.Message
		case json.Unmarshal(v.Error, &flat) == nil:
			return flat, v.ErrorDescription
		case v.Message != "":
			return "", v.Message
		case len(v.Errors) > 0:
			return errorList(v.Errors)
		}
		return "", ""
	}
	text := strings.TrimSpace(string(body))
	if len(text) > maxErrorText {
		// Cut on a character boundary, so a multi-byte character is never split.
		cut := maxErrorText
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut] + "…"
	}
	return "", text
}

// errorEntry is one error in an error envelope.
type errorEntry struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// errorList reads an "errors" envelope's list, of strings or of
// {code, message} objects: the first code and every message, joined.
func errorList(raw json.RawMessage) (code, msg string) {
	var texts []string
	if json.Unmarshal(raw, &texts) == nil {
		return "", strings.Join(texts, "; ")
	}
	var entries []errorEntry
	if json.Unmarshal(raw, &entries) != nil {
		return "", ""
	}
	msgs := make([]string, 0, len(entries))
	for _, e := range entries {
		if code == "" {
			code = e.Code
		}
		if e.Message != "" {
			msgs = append(msgs, e.Message)
		}
	}
	return code, strings.Join(msgs, "; ")
}

// ResultError reports a 200 answer that carries success:false or errors[]
// (WUG's partial failures). It matches ErrOperationFailed.
type ResultError struct {
	// Op names the client operation.
	Op string
	// Succeeded is WUG's successfulOperations count, when given.
	Succeeded int
	// Failed lists resources WUG reports with errors (resourcesWithErros,
	// or the corrected resourcesWithErrors).
	Failed []string
	// NotAllowed lists resources the user may not change.
	NotAllowed []string
	// Messages are WUG's error texts.
	Messages []string
}

// Error summarises the failure.
func (e *ResultError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "wug: %s reported failure", e.Op)
	if e.Succeeded > 0 {
		fmt.Fprintf(&b, " (%d succeeded)", e.Succeeded)
	}
	if len(e.Failed) > 0 {
		fmt.Fprintf(&b, "; with errors: %s", strings.Join(e.Failed, ", "))
	}
	if len(e.NotAllowed) > 0 {
		fmt.Fprintf(&b, "; not allowed: %s", strings.Join(e.NotAllowed, ", "))
	}
	if len(e.Messages) > 0 {
		fmt.Fprintf(&b, "; %s", strings.Join(e.Messages, "; "))
	}
	return b.String()
}

// Is matches ErrOperationFailed.
func (e *ResultError) Is(target error) bool { return target == ErrOperationFailed }

// check turns a counted result that reports any failure into a *ResultError.
func (r *CountedResult) check(op string) error {
	// success:false is a failure whatever the counts; decoding fills an
	// absent success from the count.
	if r.Success && len(r.Errors) == 0 && len(r.ResourcesWithErrors) == 0 && len(r.ResourcesNotAllowed) == 0 {
		return nil
	}
	return &ResultError{Op: op, Succeeded: r.SuccessfulOperations, Failed: r.ResourcesWithErrors, NotAllowed: r.ResourcesNotAllowed, Messages: r.Errors}
}

func (r SuccessResult) check(op string) error {
	if r.Success {
		return nil
	}
	return &ResultError{Op: op}
}

// InputError is bad caller input, found before any request is sent.
type InputError struct {
	// Field names the offending input, e.g. "templates[3].displayName".
	Field string
	// Reason says what is wrong with it.
	Reason string
}

// Error renders "invalid <field>: <reason>".
func (e *InputError) Error() string { return "invalid " + e.Field + ": " + e.Reason }

func inputErr(field, format string, args ...any) error {
	return &InputError{Field: field, Reason: fmt.Sprintf(format, args...)}
}
