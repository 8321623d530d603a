package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"syscall"

	"github.com/wugsync/wugsync/export"
	"github.com/wugsync/wugsync/netbox"
	"github.com/wugsync/wugsync/wug"
)

// explain turns a failure to talk to NetBox or WUG into one sentence that
// names the server and says what to check. from is export.ErrNetBox or
// export.ErrWUG when the caller knows which server it called; nil leaves
// it to the error (an export run's error says with errors.Is), and an
// error from neither server is returned as it is. The libraries' errors
// hold no secrets; these sentences add none.
func explain(ctx context.Context, err error, c *clients, from error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return errors.New("interrupted; the next run resumes where this one stopped")
	}
	if from == nil {
		switch {
		case errors.Is(err, export.ErrNetBox):
			from = export.ErrNetBox
		case errors.Is(err, export.ErrWUG):
			from = export.ErrWUG
		default:
			return err
		}
	}
	server, addr := "WhatsUp Gold", c.wugURL
	if from == export.ErrNetBox {
		server, addr = "NetBox", c.nbURL
	}
	var (
		authErr *wug.AuthError
		header  tls.RecordHeaderError
		dnsErr  *net.DNSError
		opErr   *net.OpError
	)
	switch {
	case errors.As(err, &authErr) || errors.Is(err, wug.ErrUnauthorized):
		return fmt.Errorf("WhatsUp Gold at %s refused the user name %q and its password; check WUG_USERNAME and WUG_PASSWORD", c.wugURL, c.wugUser)
	case errors.Is(err, netbox.ErrTokenRefused):
		return fmt.Errorf("NetBox at %s refused the API token; check NETBOX_TOKEN and the token's permissions", c.nbURL)
	case errors.Is(err, wug.ErrUntrustedCertificate): // the same value as netbox.ErrUntrustedCertificate
		return fmt.Errorf("the TLS certificate of %s at %s is not trusted (%s); give its CA with --ca-file, pin it, or use --insecure-skip-verify in a lab", server, addr, tlsReason(err))
	case errors.As(err, &header):
		return fmt.Errorf("%s at %s did not answer with TLS; check the URL's scheme (http or https)", server, addr)
	case errors.As(err, &dnsErr):
		return fmt.Errorf("cannot resolve the host name of %s at %s; check the URL", server, addr)
	case errors.As(err, &opErr) || isTimeout(err):
		return fmt.Errorf("cannot reach %s at %s (%s); check the URL and that the server is running", server, addr, netReason(err))
	}
	return fmt.Errorf("%s at %s: %v", server, addr, err)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// tlsReason is the certificate problem in a few words; a failure without
// a verification error is the pin check's.
func tlsReason(err error) string {
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		verify   *tls.CertificateVerificationError
	)
	switch {
	case errors.As(err, &unknown):
		return "signed by an unknown authority"
	case errors.As(err, &hostname):
		return "issued for another host name"
	case errors.As(err, &invalid):
		return "expired or not valid for this use"
	case errors.As(err, &verify):
		return "verification failed"
	}
	return "not the pinned certificate"
}

// netReason is a network failure in a few words.
func netReason(err error) string {
	switch {
	case isTimeout(err):
		return "timed out"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.EHOSTUNREACH):
		return "no route to host"
	}
	return "network error"
}
