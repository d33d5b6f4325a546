#!/usr/bin/env bash
# Regenerates the TLS fixtures of rzk-server's unit tests (store loading, DN formatting).
# Certificates are valid for 100 years; the store password is "secret".
# Needs openssl and Java's keytool. Run from this directory.
set -euo pipefail
rm -f ./*.pem ./*.crt ./*.key ./*.p12 ./*.jks ./*.srl
days=36500
pw=secret
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days $days -subj "/O=rzk test/CN=rzk test CA" 2>/dev/null
sign() { # name subject [openssl req extra args...]
  local name=$1 subj=$2; shift 2
  openssl req -newkey rsa:2048 -nodes -keyout "$name.key" -out "$name.csr" -subj "$subj" "$@" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > "$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days $days -out "$name.crt" -extfile "$name.ext" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
}
sign server "/O=rzk test/CN=localhost"
sign client1 "/C=US/O=Acme/CN=client1"
sign tricky "/DC=org/DC=example/O=Acme\, Inc./OU=a+OU=b/ST=Some State/emailAddress=x@y.z/CN= lead#" -multivalue-rdn
# PEM key store: the key and the chain in one file; trust store: the CA.
cat server.key server.crt ca.crt > server.pem
cp ca.crt ca.pem
# An encrypted PKCS#8 key (the key store password decrypts it, as ZooKeeper's PemReader does).
openssl pkcs8 -topk8 -in server.key -passout pass:$pw -v2 aes-256-cbc -out server-enc.key
cat server-enc.key server.crt > server-enc.pem
# PKCS12 (openssl 3 writes PBES2/AES) and JKS (keytool, from the PKCS12).
openssl pkcs12 -export -inkey server.key -in server.crt -certfile ca.crt -name server -passout pass:$pw -out server.p12
keytool -importkeystore -srckeystore server.p12 -srcstoretype PKCS12 -srcstorepass $pw \
  -destkeystore server.jks -deststoretype JKS -deststorepass $pw -destkeypass $pw -noprompt 2>/dev/null
keytool -importcert -alias ca -file ca.crt -keystore truststore.jks -storetype JKS -storepass $pw -noprompt 2>/dev/null
keytool -importcert -alias ca -file ca.crt -keystore truststore.p12 -storetype PKCS12 -storepass $pw -noprompt 2>/dev/null
rm -f ca.key ca.srl server-enc.key
