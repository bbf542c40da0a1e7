# SPDX-License-Identifier: GPL-2.0-or-later
# strongSwan peers for espmasq's tests, sourced after topo.sh: one charon
# per namespace (ESP in userspace through kernel-libipsec), each with its
# own /run, strongswan.conf, swanctl directory and log under $SW/NODE.
# See ../shared/docs/REAL-PEERS.md for why it is done this way.
#
# The caller sets SW (a scratch directory).

CHARON=${CHARON:-/usr/lib/ipsec/charon}
SWAN_PLUGINS="random nonce openssl pem pkcs1 pkcs8 x509 pubkey curve25519 aes sha1 sha2 hmac gcm kdf kernel-libipsec kernel-netlink socket-default updown vici"

swan_have() {
	[ -x "$CHARON" ] && command -v swanctl >/dev/null &&
		command -v pki >/dev/null
}

# swan_node NODE KEEPALIVE: directories and strongswan.conf of one node
swan_node() {
	local node=$1 d=$SW/$1 x
	mkdir -p "$d/run"
	for x in x509 x509ca x509aa x509ocsp x509crl x509ac pubkey private \
		rsa ecdsa bliss pkcs8 pkcs12 conf.d; do
		mkdir -p "$d/swanctl/$x"
	done
	cat >"$d/strongswan.conf" <<EOF
charon {
	load_modular = no
	load = $SWAN_PLUGINS
	keep_alive = ${2:-20s}
	retransmit_timeout = 1.0
	retransmit_base = 1.4
	retransmit_tries = 4
	install_virtual_ip = no
	plugins {
		vici {
			socket = unix://$d/run/charon.vici
		}
		kernel-libipsec {
			allow_peer_ts = yes
		}
		kernel-netlink {
			fwmark = !0x42
		}
		socket-default {
			fwmark = 0x42
		}
	}
	filelog {
		node {
			path = $d/charon.log
			time_format = %T
			flush_line = yes
			ike_name = yes
			default = 1
			ike = 2
			net = 1
			cfg = 1
		}
	}
}
swanctl {
	load = random pem pkcs1 pkcs8 x509 pubkey openssl
	socket = unix://$d/run/charon.vici
}
EOF
}

# swan_start NODE: runs charon in namespace NODE, waits for its socket
swan_start() {
	local node=$1 d=$SW/$1 i
	ip netns exec "$EMP$node" unshare -m sh -c \
		"mount --bind '$d/run' /run && exec env STRONGSWAN_CONF='$d/strongswan.conf' '$CHARON'" \
		>"$d/charon.out" 2>&1 &
	TOPO_PIDS+=($!)
	for i in $(seq 100); do
		[ -S "$d/run/charon.vici" ] && break
		sleep 0.1
	done
	[ -S "$d/run/charon.vici" ]
}

# swanctl_ NODE ARGS...: swanctl against NODE's charon
swanctl_() {
	local node=$1 d=$SW/$1
	shift
	ip netns exec "$EMP$node" env SWANCTL_DIR="$d/swanctl" \
		STRONGSWAN_CONF="$d/strongswan.conf" swanctl "$@"
}

# swan_stop NODE: kills NODE's charon at once (a peer that disappears)
swan_stop() {
	local pid
	for pid in $(ip netns pids "$EMP$1" 2>/dev/null); do
		if [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = charon ]; then
			kill -9 "$pid"
		fi
	done
}

# swan_pki DIR SANS: a root CA, an intermediate CA, and the helpers to
# issue end-entity certificates with SANS extra subjectAltNames each (to
# make IKE messages that do not fit one packet)
swan_pki() {
	local dir=$1
	mkdir -p "$dir"
	SWAN_PKI=$dir
	SWAN_SANS=$2
	pki --gen --type ecdsa --size 256 --outform pem >"$dir/root.key"
	pki --self --ca --lifetime 30 --type ecdsa --in "$dir/root.key" \
		--dn "C=ZZ, O=espmasq test, CN=espmasq test root" \
		--outform pem >"$dir/root.crt"
	pki --gen --type ecdsa --size 256 --outform pem >"$dir/im.key"
	pki --pub --type ecdsa --in "$dir/im.key" |
		pki --issue --ca --lifetime 30 --cacert "$dir/root.crt" \
			--cakey "$dir/root.key" \
			--dn "C=ZZ, O=espmasq test, CN=espmasq test intermediate" \
			--outform pem >"$dir/im.crt"
}

# swan_cert NODE ID: key and certificate for NODE, identity ID, issued by
# the intermediate; installs them and both CAs into NODE's swanctl dir
swan_cert() {
	local node=$1 id=$2 d=$SW/$1/swanctl i sans=()
	for i in $(seq 1 "$SWAN_SANS"); do
		sans+=(--san "alt-name-$i.$id")
	done
	pki --gen --type ecdsa --size 256 --outform pem >"$d/ecdsa/$node.key"
	pki --pub --type ecdsa --in "$d/ecdsa/$node.key" |
		pki --issue --lifetime 30 --cacert "$SWAN_PKI/im.crt" \
			--cakey "$SWAN_PKI/im.key" \
			--dn "C=ZZ, O=espmasq test, CN=$id" --san "$id" \
			"${sans[@]}" --outform pem >"$d/x509/$node.crt"
	cp "$SWAN_PKI/root.crt" "$SWAN_PKI/im.crt" "$d/x509ca/"
}

# swan_server_conn NAME VERSION AUTH CHILD_REKEY IKE_REKEY OPTIONS: one
# connection of the responder at 203.0.113.100 (server.example.org, its
# certificate s.crt for AUTH pubkey) for the clients' 192.0.2.0/24;
# OPTIONS are more lines for it (fragmentation, dpd_delay, proposals)
swan_server_conn() {
	local auth=$3 local_auth="auth = psk"
	[ "$auth" = psk ] || local_auth="auth = pubkey
			certs = s.crt"
	cat <<EOF
	$1 {
		version = $2
		local_addrs = 203.0.113.100
		mobike = no
		rekey_time = $5
		$6
		local {
			$local_auth
			id = server.example.org
		}
		remote {
			auth = $auth
		}
		children {
			net {
				local_ts = 198.51.100.0/24
				remote_ts = 192.0.2.0/24
				rekey_time = $4
				esp_proposals = aes128-sha256
			}
		}
	}
EOF
}

# swan_client_conf I VERSION AUTH CHILD_REKEY IKE_REKEY OPTIONS: the
# swanctl.conf of client I (192.0.2.(10+I), cI.example.org) toward the
# responder; AUTH psk or pubkey (a certificate is issued); OPTIONS as
# for swan_server_conn
swan_client_conf() {
	local i=$1 auth=$3 local_auth="auth = psk"
	if [ "$auth" != psk ]; then
		swan_cert "c$i" "c$i.example.org"
		local_auth="auth = pubkey
			certs = c$i.crt"
	fi
	cat >"$SW/c$i/swanctl/swanctl.conf" <<EOF
connections {
	vpn {
		version = $2
		remote_addrs = 203.0.113.100
		mobike = no
		rekey_time = $5
		keyingtries = 1
		$6
		local {
			$local_auth
			id = c$i.example.org
		}
		remote {
			auth = $auth
			id = server.example.org
		}
		children {
			net {
				local_ts = 192.0.2.$((10 + i))/32
				remote_ts = 198.51.100.0/24
				rekey_time = $4
				esp_proposals = aes128-sha256
			}
		}
	}
}
secrets {
	ike-all {
		secret = espmasq-test-psk
	}
}
EOF
}
