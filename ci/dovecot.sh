#!/usr/bin/env bash
# A throw-away IMAP server for the tests: Debian's Dovecot (dovecot-imapd) on 127.0.0.1:PORT with
# one user and a Maildir under DIR, in the foreground (the caller stops it; kill its process group
# to make it "go away" mid-command). Used by tests/api (imap_server.rs) and web/e2e/ci.sh.
#   ci/dovecot.sh DIR PORT USER PASSWORD
set -euo pipefail
dir=$1 port=$2 user=$3 password=$4
mkdir -p "$dir/mail" "$dir/run" "$dir/state"
# The mail processes run unprivileged: they must reach and write the Maildir.
chmod 755 "$dir"
chmod 777 "$dir/mail"
if [ "$(id -u)" = 0 ]; then
  # Dovecot never stores mail as root: Debian's mail user does.
  mail_uid=$(id -u mail) mail_gid=$(id -g mail) own_users=""
else
  mail_uid=$(id -u) mail_gid=$(id -g)
  own_users="default_internal_user = $(id -un)
default_login_user = $(id -un)"
fi
printf '%s:{PLAIN}%s::::::\n' "$user" "$password" > "$dir/passwd"
cat > "$dir/dovecot.conf" <<CONF
base_dir = $dir/run
state_dir = $dir/state
log_path = $dir/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:$dir/mail/%n
first_valid_uid = 1
$own_users
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $dir/passwd
}
userdb {
  driver = static
  args = uid=$mail_uid gid=$mail_gid home=$dir/mail/%n
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $port
  }
  inet_listener imaps {
    port = 0
  }
}
service stats {
  unix_listener stats-reader {
    mode = 0666
  }
  unix_listener stats-writer {
    mode = 0666
  }
}
CONF
# A pid file left by a killed server would stop this one.
rm -f "$dir/run/master.pid"
exec /usr/sbin/dovecot -F -c "$dir/dovecot.conf"
