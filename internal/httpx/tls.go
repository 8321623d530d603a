package httpx

import (
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

// TLSOptions describe how to trust a server. Set at most one way of trust
// besides the system roots: a CA bundle (file and/or PEM), a pinned leaf
// certificate fingerprint, or InsecureSkipVerify.
type TLSOptions struct {
	// CAFile is a PEM bundle of CA certificates to trust instead of the system roots.
	CAFile string
	// CAPEM is a PEM bundle of CA certificates, added to CAFile's.
	CAPEM []byte
	// PinnedSHA256 is the hex SHA-256 fingerprint of the server's leaf
	// certificate (colons and case ignored). When set, the chain is not
	// verified against any CA; only the fingerprint must match.
	PinnedSHA256 string
	// InsecureSkipVerify turns off all certificate checks. Only for tests
	// and labs.
	InsecureSkipVerify bool
}

// Set reports whether o asks for any trust other than the system roots.
func (o TLSOptions) Set() bool {
	return o.CAFile != "" || len(o.CAPEM) > 0 || o.PinnedSHA256 != "" || o.InsecureSkipVerify
}

// ErrUntrustedCertificate matches a request that failed because the
// server's certificate is not trusted: its chain does not verify (an
// unknown authority, another host name, expired) or it is not the pinned
// certificate. The error also carries crypto/tls's or crypto/x509's own.
var ErrUntrustedCertificate = errors.New("server certificate not trusted")

// apply adds o's trust settings to cfg and raises its minimum version to
// TLS 1.2, keeping what else cfg holds (client certificates, server name).
func (o TLSOptions) apply(cfg *tls.Config) error {
	cfg.MinVersion = max(cfg.MinVersion, tls.VersionTLS12)
	hasCA := o.CAFile != "" || len(o.CAPEM) > 0
	modes := 0
	for _, on := range []bool{hasCA, o.PinnedSHA256 != "", o.InsecureSkipVerify} {
		if on {
			modes++
		}
	}
	if modes > 1 {
		return errors.New("tls: choose one of CA bundle, pinned certificate or insecure skip-verify")
	}
	if hasCA {
		pool := x509.NewCertPool()
		if o.CAFile != "" {
			pem, err := os.ReadFile(o.CAFile)
			if err != nil {
				return fmt.Errorf("tls: read CA file: %w", err)
			}
			if !pool.AppendCertsFromPEM(pem) {
				return fmt.Errorf("tls: CA file %s holds no PEM certificate", o.CAFile)
			}
		}
		if len(o.CAPEM) > 0 && !pool.AppendCertsFromPEM(o.CAPEM) {
			return errors.New("tls: CA PEM holds no certificate")
		}
		cfg.RootCAs = pool
	}
	if o.PinnedSHA256 != "" {
		pin, err := ParseFingerprint(o.PinnedSHA256)
		if err != nil {
			return err
		}
		// Chain verification is replaced by the pin check below, which runs
		// on every handshake including resumed ones.
		cfg.InsecureSkipVerify = true
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return &pinError{}
			}
			sum := sha256.Sum256(cs.PeerCertificates[0].Raw)
			if subtle.ConstantTimeCompare(sum[:], pin) != 1 {
				return &pinError{got: hex.EncodeToString(sum[:])}
			}
			return nil
		}
	}
	if o.InsecureSkipVerify {
		cfg.InsecureSkipVerify = true
	}
	return nil
}

// pinError is a handshake refused because the server's certificate is not
// the pinned one.
type pinError struct{ got string }

func (e *pinError) Error() string {
	if e.got == "" {
		return "tls: server sent no certificate to check against the pinned one"
	}
	return fmt.Sprintf("tls: server certificate fingerprint %s does not match the pinned one", e.got)
}

// untrustedError marks a transport error caused by the server's
// certificate as matching ErrUntrustedCertificate; its text and chain are
// the cause's.
type untrustedError struct{ err error }

func (e *untrustedError) Error() string        { return e.err.Error() }
func (e *untrustedError) Unwrap() error        { return e.err }
func (e *untrustedError) Is(target error) bool { return target == ErrUntrustedCertificate }

// markUntrusted returns err marked as matching ErrUntrustedCertificate
// when it comes from the server's certificate, and err unchanged otherwise.
func markUntrusted(err error) error {
	var (
		verify   *tls.CertificateVerificationError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		pin      *pinError
	)
	if err == nil || errors.Is(err, ErrUntrustedCertificate) {
		return err
	}
	if errors.As(err, &verify) || errors.As(err, &unknown) || errors.As(err, &hostname) || errors.As(err, &invalid) || errors.As(err, &pin) {
		return &untrustedError{err}
	}
	return err
}

// ParseFingerprint decodes a hex SHA-256 fingerprint, ignoring colons,
// spaces and case.
func ParseFingerprint(s string) ([]byte, error) {
	clean := strings.NewReplacer(":", "", " ", "", "-", "").Replace(strings.TrimSpace(s))
	b, err := hex.DecodeString(clean)
	if err != nil || len(b) != sha256.Size {
		return nil, fmt.Errorf("tls: pinned certificate %q is not a hex SHA-256 fingerprint (64 hex digits)", s)
	}
	return b, nil
}

// Fingerprint returns the hex SHA-256 fingerprint of a DER certificate, the
// form PinnedSHA256 takes.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}
