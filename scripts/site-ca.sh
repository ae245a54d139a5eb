#!/bin/sh
# A site CA and per-kiosk client certificates for mutual TLS (docs/trust.md), with openssl.
#   site-ca.sh init   DIR              make DIR/ca.key (0600) and DIR/ca.crt (10 years)
#   site-ca.sh kiosk  DIR KIOSK-ID     make DIR/KIOSK-ID.key + .crt (client auth, CN=KIOSK-ID, 2 years)
#   site-ca.sh server DIR HOSTNAME     make DIR/HOSTNAME.key + .crt (server auth, SAN=DNS:HOSTNAME)
set -eu
umask 077

usage() { echo "usage: $0 init DIR | kiosk DIR KIOSK-ID | server DIR HOSTNAME" >&2; exit 2; }
[ $# -ge 2 ] || usage
cmd=$1 dir=$2

issue() {  # name subject extensions-file
    openssl genpkey -algorithm ed25519 -out "$dir/$1.key"
    openssl req -new -key "$dir/$1.key" -subj "$2" -out "$dir/$1.csr"
    openssl x509 -req -in "$dir/$1.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
        -CAcreateserial -days 730 -extfile "$3" -out "$dir/$1.crt"
    rm -f "$dir/$1.csr" "$3"
    chmod 600 "$dir/$1.key"; chmod 644 "$dir/$1.crt"
    echo "$dir/$1.crt"
}

case $cmd in
init)
    mkdir -p "$dir"
    [ ! -e "$dir/ca.key" ] || { echo "$dir/ca.key exists; not overwriting" >&2; exit 1; }
    openssl genpkey -algorithm ed25519 -out "$dir/ca.key"
    openssl req -new -x509 -key "$dir/ca.key" -days 3650 -subj "/CN=kiosk site CA" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -out "$dir/ca.crt"
    chmod 600 "$dir/ca.key"; chmod 644 "$dir/ca.crt"
    echo "$dir/ca.crt"
    ;;
kiosk)
    [ $# -eq 3 ] || usage
    echo "$3" | grep -Eq '^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$' || { echo "bad kiosk id" >&2; exit 2; }
    ext=$(mktemp)
    printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n' > "$ext"
    issue "$3" "/CN=$3" "$ext"
    ;;
server)
    [ $# -eq 3 ] || usage
    ext=$(mktemp)
    printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:%s\n' "$3" > "$ext"
    issue "$3" "/CN=$3" "$ext"
    ;;
*) usage ;;
esac
