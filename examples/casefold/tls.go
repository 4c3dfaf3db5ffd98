//go:build !js

package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"time"
)

// tlsConfig returns the server's TLS configuration: from the PEM files
// certFile and keyFile, or with a fresh self-signed certificate, or nil
// (plain HTTP) when neither is asked for.
func tlsConfig(certFile, keyFile string, selfSigned bool) (*tls.Config, error) {
	var cert tls.Certificate
	var err error
	switch {
	case selfSigned && (certFile != "" || keyFile != ""):
		return nil, errors.New("casefold: -self-signed does not go with -cert and -key")
	case selfSigned:
		cert, err = selfSignedCert(time.Now())
	case certFile != "" && keyFile != "":
		cert, err = tls.LoadX509KeyPair(certFile, keyFile)
	case certFile != "" || keyFile != "":
		return nil, errors.New("casefold: -cert and -key go together")
	default:
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("casefold: %w", err)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		// No "h2": a WebSocket handshake is an HTTP/1.1 upgrade.
		NextProtos: []string{"http/1.1"},
	}, nil
}

// selfSignedCert makes an ECDSA P-256 certificate for localhost, 127.0.0.1
// and ::1, valid for a day from now (and five minutes before, for clocks
// that lag). It lives in memory only.
func selfSignedCert(now time.Time) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "casefold example (self-signed)"},
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		NotBefore:             now.Add(-5 * time.Minute),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}
