#!/bin/sh
# Regenerates the test keys of private_key_jwt (RFC 7523):
#   rsa.key        the client's RSA 2048 key, PKCS#8 PEM (RS256, PS256)
#   rsa-pkcs1.key  the same key as PKCS#1 ("RSA PRIVATE KEY")
#   rsa.pub        its public key, DER RSAPublicKey (what the local server verifies with)
#   ec.key         the client's P-256 key, PKCS#8 PEM (ES256)
#   ec-sec1.key    the same key as SEC1 ("EC PRIVATE KEY")
#   ec.pub         its public key, the uncompressed point (65 bytes)
#   other.key      an RSA key no client registered
#   encrypted.key  rsa.key encrypted (passphrase "test"): refused, bearer takes no passphrase
# Needs the openssl command (1.1.1 or newer).
set -eu
cd "$(dirname "$0")"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.key
openssl rsa -in rsa.key -traditional -out rsa-pkcs1.key 2>/dev/null
openssl rsa -in rsa.key -RSAPublicKey_out -outform DER -out rsa.pub 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec.key
openssl ec -in ec.key -out ec-sec1.key 2>/dev/null
openssl ec -in ec.key -pubout -outform DER 2>/dev/null | tail -c 65 > ec.pub
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out other.key
openssl pkcs8 -topk8 -in rsa.key -passout pass:test -out encrypted.key
