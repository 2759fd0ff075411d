#!/bin/sh
# Regenerates the client certificates of mutual TLS (RFC 8705):
#   client-ca.pem     the CA the local server's mutual-TLS listener trusts for tls_client_auth
#   client.pem        the certificate of mtls-client (CN=mtls-client), signed by client-ca.pem
#   client.key        its private key (PKCS#8, P-256)
#   self-signed.pem   the self-signed certificate registered for mtls-self-signed
#   self-signed.key   its private key
# Valid for 100 years from when they are made; the CA's key is thrown away.
# Needs openssl 1.1.1 or newer.
set -eu
cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/ext.cnf" <<'CNF'
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[client_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$1"; }
key "$work/client-ca.key"
openssl req -x509 -new -key "$work/client-ca.key" -subj "/CN=bearer client CA (test only)" \
    -days 36500 -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" -out client-ca.pem
key client.key
openssl req -new -key client.key -subj "/CN=mtls-client" -out "$work/client.csr"
openssl x509 -req -in "$work/client.csr" -CA client-ca.pem -CAkey "$work/client-ca.key" \
    -CAserial "$work/serial" -CAcreateserial -days 36500 -extfile "$work/ext.cnf" -extensions client_ext -out client.pem 2>/dev/null
key self-signed.key
openssl req -x509 -new -key self-signed.key -subj "/CN=mtls-self-signed" -days 36500 \
    -addext "basicConstraints=critical,CA:FALSE" -addext "keyUsage=critical,digitalSignature" \
    -addext "extendedKeyUsage=clientAuth" -out self-signed.pem
chmod 644 client.key self-signed.key
openssl verify -CAfile client-ca.pem client.pem
