#!/bin/sh
# The container's entry: a data folder of its own for each issuer process (settings, credential
# types, admin token), started from the image's settings the first time; then frontdesk-issuer.
set -eu
if [ ! -e /data/settings.json ]; then
    cp /etc/frontdesk/issuer-settings.json /data/settings.json
    chmod 600 /data/settings.json
fi
exec frontdesk-issuer "$@"
