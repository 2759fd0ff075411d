#!/bin/sh
# Regenerates the test PKI the local server's TLS endpoint uses:
#   ca.pem        the test CA (a ca_file that makes the endpoint trusted)
#   server.pem    the leaf certificate for 127.0.0.1 and localhost, signed by the CA
#   server.key    its private key (PKCS#8, P-256)
#   other-ca.pem  an unrelated CA, which does not make the endpoint trusted
# Valid from 2000 to 2100, so no machine's clock, however wrong, sees them
# not yet valid or expired. The CAs' keys are thrown away: nothing else is
# ever signed. Needs the openssl command (1.1.1 or newer).
set -eu
cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat > "$work/ca.cnf" <<'CNF'
[ca]
default_ca = test_ca
[test_ca]
database = $ENV::WORK/index.txt
new_certs_dir = $ENV::WORK
serial = $ENV::WORK/serial
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[any]
commonName = supplied
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[leaf_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF
export WORK="$work"

# sign CSR CA_CERT CA_KEY EXTENSIONS OUT [-selfsign]
sign() {
    : > "$work/index.txt"
    openssl rand -hex 16 > "$work/serial"
    openssl ca -batch -notext -config "$work/ca.cnf" -in "$1" ${2:+-cert "$2"} -keyfile "$3" \
        -extensions "$4" -startdate 20000101000000Z -enddate 21000101000000Z \
        -out "$5" ${6:-} 2>/dev/null
}

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$1"; }

for name in ca other-ca; do
    key "$work/$name.key"
    openssl req -new -key "$work/$name.key" -subj "/CN=bearer $name (test only)" \
        -out "$work/$name.csr"
    sign "$work/$name.csr" "" "$work/$name.key" ca_ext "$name.pem" -selfsign
done

key server.key
openssl req -new -key server.key -subj "/CN=localhost" -out "$work/server.csr"
sign "$work/server.csr" ca.pem "$work/ca.key" leaf_ext server.pem
chmod 644 server.key
openssl verify -CAfile ca.pem server.pem
