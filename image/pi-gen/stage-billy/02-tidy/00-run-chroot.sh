#!/bin/bash -e
# Nothing the playbook downloaded stays in the image but what it installed.
apt-get clean
rm -rf /root/.cache/pip
