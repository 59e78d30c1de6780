# zpm_helper.bash — what the zpm*.bats files share: where zpm is, a scratch directory, and a
# project made by `zpm new`.

top=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
ZPM=${ZPM:-$top/build/zpm}
# Retries stay on (they are part of what is tested) but back off quickly.
export ZPM_RETRY_DELAY_MS=${ZPM_RETRY_DELAY_MS:-20}

zpm_setup() {
    tmp=$(mktemp -d)
    cd "$tmp"
}

zpm_teardown() {
    cd /
    rm -rf "$tmp"
}

# new_project NAME: a python project with a web UI in $tmp/NAME, bundled into NAME.zapp.
new_project() {
    "$ZPM" new "$tmp/$1" --with-ui > /dev/null
    (cd "$tmp/$1" && "$ZPM" bundle > /dev/null)
}

# json_get FILE EXPR: evaluates a Python expression on the JSON document `j` read from FILE.
json_get() {
    /usr/bin/python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# A token for the tempauth user test:tester (the cluster's ST_* variables).
tempauth_token() {
    curl -fsS -D - -o /dev/null -H "X-Auth-User: $ST_USER" -H "X-Auth-Key: $ST_KEY" "$ST_AUTH" |
        tr -d '\r' | sed -n 's/^[Xx]-[Aa]uth-[Tt]oken: //p'
}
