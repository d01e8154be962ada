package oidcpeer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// newSigningKey generates a private JWK for alg (RS256 or ES256) whose kid is
// its RFC 7638 thumbprint.
func newSigningKey(alg string) (jose.JSONWebKey, error) {
	var key crypto.Signer
	var err error
	switch alg {
	case "RS256":
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ES256":
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		return jose.JSONWebKey{}, fmt.Errorf("unsupported key algorithm %q", alg)
	}
	if err != nil {
		return jose.JSONWebKey{}, fmt.Errorf("generate %s key: %w", alg, err)
	}
	jwk := jose.JSONWebKey{Key: key, Algorithm: alg, Use: "sig"}
	if err := setThumbprintKeyID(&jwk); err != nil {
		return jose.JSONWebKey{}, err
	}
	return jwk, nil
}

func setThumbprintKeyID(jwk *jose.JSONWebKey) error {
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return fmt.Errorf("jwk thumbprint: %w", err)
	}
	jwk.KeyID = base64.RawURLEncoding.EncodeToString(tp)
	return nil
}

// pkcs8PEM encodes a private JWK's key as a PKCS#8 "PRIVATE KEY" PEM block.
func pkcs8PEM(jwk jose.JSONWebKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(jwk.Key)
	if err != nil {
		return nil, fmt.Errorf("marshal pkcs8 key %s: %w", jwk.KeyID, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

func publicSet(keys []jose.JSONWebKey) jose.JSONWebKeySet {
	set := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, 0, len(keys))}
	for _, k := range keys {
		set.Keys = append(set.Keys, k.Public())
	}
	return set
}

// clientKeys turns Config.PrivateJWTKeys (or freshly generated RS256 and
// ES256 keys) into the public set registered for cc-private-jwt and the
// private halves handed to tests, keyed by alg.
func clientKeys(given jose.JSONWebKeySet) (pub jose.JSONWebKeySet, pemByAlg, jwkByAlg map[string][]byte, err error) {
	keys := given.Keys
	if len(keys) == 0 {
		for _, alg := range []string{"RS256", "ES256"} {
			k, err := newSigningKey(alg)
			if err != nil {
				return jose.JSONWebKeySet{}, nil, nil, err
			}
			keys = append(keys, k)
		}
	}
	pemByAlg = map[string][]byte{}
	jwkByAlg = map[string][]byte{}
	for i := range keys {
		k := keys[i]
		if k.Algorithm == "" {
			return jose.JSONWebKeySet{}, nil, nil, fmt.Errorf("private_key_jwt key %d has no alg", i)
		}
		if k.KeyID == "" {
			if err := setThumbprintKeyID(&k); err != nil {
				return jose.JSONWebKeySet{}, nil, nil, err
			}
			keys[i] = k
		}
		if k.IsPublic() {
			continue
		}
		p, err := pkcs8PEM(k)
		if err != nil {
			return jose.JSONWebKeySet{}, nil, nil, err
		}
		j, err := json.Marshal(k)
		if err != nil {
			return jose.JSONWebKeySet{}, nil, nil, fmt.Errorf("marshal private jwk %s: %w", k.KeyID, err)
		}
		pemByAlg[k.Algorithm] = p
		jwkByAlg[k.Algorithm] = j
	}
	return publicSet(keys), pemByAlg, jwkByAlg, nil
}

// tlsMaterial is a throw-away PKI for TLS mode: a CA, a server certificate
// for 127.0.0.1, and a client certificate for tls_client_auth (RFC 8705 §2.1).
type tlsMaterial struct {
	caFile, serverCertFile, serverKeyFile, clientCertFile, clientKeyFile string
	clientSubjectDN                                                      string
}

func writeTLSMaterial(dir string) (tlsMaterial, error) {
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tlsMaterial{}, fmt.Errorf("generate ca key: %w", err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "idpctl e2e test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return tlsMaterial{}, fmt.Errorf("create ca certificate: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return tlsMaterial{}, fmt.Errorf("parse ca certificate: %w", err)
	}

	issue := func(serial int64, tmpl *x509.Certificate) (certPEM, keyPEM []byte, err error) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, nil, fmt.Errorf("generate key: %w", err)
		}
		tmpl.SerialNumber = big.NewInt(serial)
		tmpl.NotBefore = now.Add(-time.Hour)
		tmpl.NotAfter = now.Add(24 * time.Hour)
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			return nil, nil, fmt.Errorf("create certificate: %w", err)
		}
		keyDER, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, nil, fmt.Errorf("marshal key: %w", err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
			pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil
	}

	serverCert, serverKey, err := issue(2, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:    []string{"localhost"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err != nil {
		return tlsMaterial{}, fmt.Errorf("server certificate: %w", err)
	}
	clientSubject := pkix.Name{CommonName: ClientTLS, Organization: []string{"idpctl e2e"}}
	clientCert, clientKey, err := issue(3, &x509.Certificate{
		Subject:     clientSubject,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return tlsMaterial{}, fmt.Errorf("client certificate: %w", err)
	}

	m := tlsMaterial{
		caFile:         filepath.Join(dir, "ca.pem"),
		serverCertFile: filepath.Join(dir, "server.pem"),
		serverKeyFile:  filepath.Join(dir, "server-key.pem"),
		clientCertFile: filepath.Join(dir, "client.pem"),
		clientKeyFile:  filepath.Join(dir, "client-key.pem"),
		// pkix.Name.String is the RFC 4514 form that RFC 8705 §2.1.2
		// compares tls_client_auth_subject_dn against.
		clientSubjectDN: clientSubject.String(),
	}
	files := map[string][]byte{
		m.caFile:         pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		m.serverCertFile: serverCert,
		m.serverKeyFile:  serverKey,
		m.clientCertFile: clientCert,
		m.clientKeyFile:  clientKey,
	}
	for name, data := range files {
		if err := os.WriteFile(name, data, 0o600); err != nil {
			return tlsMaterial{}, fmt.Errorf("write %s: %w", filepath.Base(name), err)
		}
	}
	return m, nil
}
