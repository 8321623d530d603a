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

// TLSConfig builds a *tls.Config (TLS 1.2 or later) from o.
func TLSConfig(o TLSOptions) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	hasCA := o.CAFile != "" || len(o.CAPEM) > 0
	modes := 0
	for _, on := range []bool{hasCA, o.PinnedSHA256 != "", o.InsecureSkipVerify} {
		if on {
			modes++
		}
	}
	if modes > 1 {
		return nil, errors.New("tls: choose one of CA bundle, pinned certificate or insecure skip-verify")
	}
	if hasCA {
		pool := x509.NewCertPool()
		if o.CAFile != "" {
			pem, err := os.ReadFile(o.CAFile)
			if err != nil {
				return nil, fmt.Errorf("tls: read CA file: %w", err)
			}
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("tls: CA file %s holds no PEM certificate", o.CAFile)
			}
		}
		if len(o.CAPEM) > 0 && !pool.AppendCertsFromPEM(o.CAPEM) {
			return nil, errors.New("tls: CA PEM holds no certificate")
		}
		cfg.RootCAs = pool
	}
	if o.PinnedSHA256 != "" {
		pin, err := ParseFingerprint(o.PinnedSHA256)
		if err != nil {
			return nil, err
		}
		// Chain verification is replaced by the pin check below, which runs
		// on every handshake including resumed ones.
		cfg.InsecureSkipVerify = true
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("tls: server sent no certificate")
			}
			sum := sha256.Sum256(cs.PeerCertificates[0].Raw)
			if subtle.ConstantTimeCompare(sum[:], pin) != 1 {
				return fmt.Errorf("tls: server certificate fingerprint %s does not match the pinned one", hex.EncodeToString(sum[:]))
			}
			return nil
		}
	}
	if o.InsecureSkipVerify {
		cfg.InsecureSkipVerify = true
	}
	return cfg, nil
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
