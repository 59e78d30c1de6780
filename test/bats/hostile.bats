#!/usr/bin/env bats
# Hostile inputs do no harm (issue 17): tar images a careless or hostile user could hand to zvm
# (made at test time by test/tools/hostile_tar.py), `wo` images written whole or not at all,
# and a guest (test/fixtures/h_hostile.c) that pushes the file system to its limits.  Each ends
# in a clear error, naming the image and the reason, or a clean session; never a crash or the
# host's memory.

load zvm_helpers
setup() { zvm_setup; }
teardown() { zvm_teardown; }

hostile_tar() { python3 "$top/test/tools/hostile_tar.py" "$@"; }

# image_manifest IMAGE MOUNTPOINT ARGS...: $tmp/m runs ARGS (a fixture and its arguments) with
# IMAGE mounted read-only at MOUNTPOINT as /dev/img.
image_manifest() {
    local image=$1 mountpoint=$2; shift 2
    printf '[args]\nargs = %s\n[fstab]\nchannel=/dev/img, mountpoint=%s, access=ro\n' "$*" "$mountpoint" > "$tmp/nvram"
    manifest "$fx/$1.wasm" "Channel = $tmp/nvram,/dev/nvram,0,0,100,100000,0,0" \
        "Channel = $image,/dev/img,3,0,1000000,1000000000,0,0"
}

# peak_kb ARGS...: runs zvm ARGS like zvm_run; prints its exit status and its peak resident
# memory in KiB.
peak_kb() {
    python3 -c 'import resource, subprocess, sys
with open(sys.argv[1], "w") as out, open(sys.argv[2], "w") as err:
    rc = subprocess.run(sys.argv[3:], stdout=out, stderr=err).returncode
print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$tmp/report" "$tmp/stderr" "$zvm" "$@"
}

@test "hostile: a million-member image mounts (in tree order, not member order); too little Memory refuses it" {
    hostile_tar million "$tmp/million.tgz"
    MEM=1073741824 TIMEOUT=120 image_manifest "$tmp/million.tgz" /data s_file /data/d/last
    run zvm_run "$tmp/m"
    [ "$status" -eq 0 ]
    [ "$(cat "$tmp/out")" = last ]
    MEM=67108864 image_manifest "$tmp/million.tgz" /data s_file /data/d/last
    run zvm_run "$tmp/m"
    [ "$status" -eq 5 ]
    [ "$(state)" = "image /dev/img: inflates to more than 67108864 bytes, its limit (the session's Memory); a compressed or piped image is held in memory: raise Memory, or give it as an uncompressed tar file" ]
}

@test "hostile: a gzip bomb (1 MB to 1 GiB) is refused before it is inflated, in bounded memory" {
    hostile_tar bomb "$tmp/bomb.tgz"
    image_manifest "$tmp/bomb.tgz" /data s_file /data/zeros
    read -r rc kb < <(peak_kb "$tmp/m")
    [ "$rc" -eq 5 ]
    [[ "$(state)" == "image /dev/img: inflates to more than 67108864 bytes, its limit (the session's Memory);"* ]]
    echo "peak RSS $kb KiB"
    [ "$kb" -lt 262144 ]      # Memory (64 MiB) and the engine, not the bomb's GiB
}

@test "hostile: members named ../x are refused; absolute names stay inside the mount point" {
    hostile_tar dotdot "$tmp/dotdot.tar"
    image_manifest "$tmp/dotdot.tar" /data s_file /data/x
    run zvm_run "$tmp/m"
    [ "$status" -eq 5 ]
    [ "$(state)" = "image /dev/img: member ../x: path has '..' in it; the guest's file system cannot hold it: fix or leave out that member" ]
    hostile_tar absolute "$tmp/abs.tar"
    image_manifest "$tmp/abs.tar" /data s_file /data/abs/x
    run zvm_run "$tmp/m"
    [ "$status" -eq 0 ]
    [ "$(cat "$tmp/out")" = "inside after all" ]
}

@test "hostile: symlinks out of the image reach nothing of the host; loops end in ELOOP" {
    hostile_tar symlinks "$tmp/links.tar"
    for link in ok out1 out2 loop1; do
        image_manifest "$tmp/links.tar" /data s_file /data/$link
        run zvm_run "$tmp/m"
        [ "$status" -eq 0 ]
        case $link in
        ok) [ "$(report_line 3)" = 0 ]; [ "$(cat "$tmp/out")" = x ] ;;
        out*) [ "$(report_line 3)" = 1 ]; [ "$(cat "$tmp/err")" = "s_file: /data/$link: No such file or directory" ] ;;
        loop1) [ "$(report_line 3)" = 1 ]; [[ "$(cat "$tmp/err")" == "s_file: /data/loop1: Symbolic link loop" ]] ;;
        esac
    done
}

@test "hostile: hard links out of the image, to a missing member or to themselves are refused by name" {
    hostile_tar hardout "$tmp/h.tar"
    image_manifest "$tmp/h.tar" /data s_file /data/h
    run zvm_run "$tmp/m"
    [ "$status" -eq 5 ]
    [ "$(state)" = "image /dev/img: member h: its hard link target ../x: path has '..' in it; the guest's file system cannot hold it: fix or leave out that member" ]
    for kind in hardmissing hardloop; do
        hostile_tar $kind "$tmp/h.tar"
        run zvm_run "$tmp/m"
        [ "$status" -eq 5 ]
        [ "$(state)" = "image /dev/img: cannot mount h: its hard link target is not an earlier file of the image" ]
    done
}

@test "hostile: sparse and truncated members are refused, naming the member" {
    hostile_tar sparse "$tmp/s.tar"
    image_manifest "$tmp/s.tar" /data s_file /data/holes
    run zvm_run "$tmp/m"
    [ "$status" -eq 5 ]
    [ "$(state)" = "image /dev/img: corrupt or truncated tar at member holes: sparse or split file (not supported in images); check that the channel holds a valid tar archive" ]
    hostile_tar truncated "$tmp/s.tar"
    run zvm_run "$tmp/m"
    [ "$status" -eq 5 ]
    [[ "$(state)" == "image /dev/img: corrupt or truncated tar at member cut: "*"; check that the channel holds a valid tar archive" ]]
}

@test "hostile: an empty symlink target and a member at a channel's path say so (not 'out of memory')" {
    hostile_tar emptylink "$tmp/e.tar"
    image_manifest "$tmp/e.tar" /data s_file /data/empty
    run zvm_run "$tmp/m"
    [ "$status" -eq 5 ]
    [ "$(state)" = "image /dev/img: member empty: a symlink with an empty target; the guest's file system cannot hold it: fix or leave out that member" ]
    hostile_tar nvram "$tmp/n.tar"
    image_manifest "$tmp/n.tar" / s_file /dev/nvram
    run zvm_run "$tmp/m"
    [ "$status" -eq 5 ]
    [ "$(state)" = "image /dev/img: cannot mount dev/nvram: a channel is already there (a channel's path cannot be replaced by an image)" ]
}

@test "hostile: names over 255 bytes are refused at load; long names are cut, the reason kept" {
    hostile_tar longname "$tmp/l.tar"
    image_manifest "$tmp/l.tar" /data s_file /data/x
    run zvm_run "$tmp/m"
    [ "$status" -eq 5 ]
    [[ "$(state)" == "image /dev/img: member nnnn"*"..."*"nnnn: a name in the path is longer than 255 bytes; the guest's file system cannot hold it: fix or leave out that member" ]]
    # a 4,000-byte path is fine and readable; under a long alias its failure still ends with the reason
    hostile_tar longpath "$tmp/p.tar"
    deep=$(python3 -c "print('/'.join(['p' * 100] * 40))")
    image_manifest "$tmp/p.tar" /data s_file "/data/$deep"
    run zvm_run "$tmp/m"
    [ "$status" -eq 0 ]
    [ "$(cat "$tmp/out")" = "deep inside" ]
    image_manifest "$tmp/p.tar" "/$(printf 'm%.0s' $(seq 200))" s_file /x
    run zvm_run "$tmp/m"
    [ "$status" -eq 5 ]
    [[ "$(state)" == "image /dev/img: cannot mount pppp"*"..."*"pppp: the path with its mount point is longer than 4096 bytes" ]]
}

# wo_manifest ARGS...: runs ARGS with a `wo` image at /out written to $tmp/out.tar.
wo_manifest() {
    printf '[args]\nargs = %s\n[fstab]\nchannel=/dev/out.tar, mountpoint=/out, access=wo\n' "$*" > "$tmp/nvram"
    manifest "$fx/$1.wasm" "Channel = $tmp/nvram,/dev/nvram,0,0,100,100000,0,0" \
        "Channel = $tmp/out.tar,/dev/out.tar,0,0,0,0,1000,1000000000"
}

@test "hostile: a wo image is renamed into place only when complete; a failed write-back keeps the previous file" {
    echo "the previous contents" > "$tmp/out.tar"
    wo_manifest h_hostile deep 3000 /out
    run zvm_run "$tmp/m"
    [ "$status" -eq 5 ]
    [ "$(state)" = "image /dev/out.tar: a path under /out is too long for the tar" ]
    [ "$(cat "$tmp/out.tar")" = "the previous contents" ]
    [ -z "$(ls -A "$tmp" | grep zvm-wo)" ]          # no temporary file left behind
    wo_manifest h_hostile deep 3 /out
    run zvm_run "$tmp/m"
    [ "$status" -eq 0 ]
    [ "$(tar -tf "$tmp/out.tar" | tr '\n' ' ')" = "d/ d/d/ d/d/d/ " ]
    [ -z "$(ls -A "$tmp" | grep zvm-wo)" ]
    # a session that fails before the guest exists writes nothing either
    cp "$tmp/out.tar" "$tmp/before.tar"
    wo_manifest no_such_program
    run zvm_run "$tmp/m"
    [ "$status" -eq 2 ]
    cmp "$tmp/out.tar" "$tmp/before.tar"
    [ -z "$(ls -A "$tmp" | grep zvm-wo)" ]
}

# guest_run ARGS...: h_hostile ARGS with Memory MEM (default 64 MiB); its stdout in $tmp/out.
guest_run() {
    printf '[args]\nargs = h_hostile %s\n' "$*" > "$tmp/nvram"
    manifest "$fx/h_hostile.wasm" "Channel = $tmp/nvram,/dev/nvram,0,0,100,100000,0,0"
    run zvm_run "$tmp/m"
}

@test "hostile guest: 100,000 files in one directory, in scrambled order" {
    TIMEOUT=120 guest_run files 100000
    [ "$status" -eq 0 ]
    [ "$(cat "$tmp/out")" = "files done: 100000, the last one there" ]
}

@test "hostile guest: 10,000-deep directories; a path through them is ENAMETOOLONG" {
    guest_run deep 10000 /tmp
    [ "$status" -eq 0 ]
    [ "$(cat "$tmp/out")" = "$(printf 'deep done: 10000\nstat of the whole path: ENAMETOOLONG')" ]
}

@test "hostile guest: descriptors until refused (EMFILE); empty files until Memory is spent (ENOSPC)" {
    guest_run fds
    [ "$status" -eq 0 ]
    [[ "$(cat "$tmp/out")" == "fds stopped at "*": EMFILE" ]]
    MEM=8388608 guest_run empties
    [ "$status" -eq 0 ]
    [ "$(cat "$tmp/out")" = "empties stopped: ENOSPC, after more than 1000: yes" ]
}

@test "hostile guest: a 256-byte name is ENAMETOOLONG, a 255-byte one is fine" {
    guest_run longname
    [ "$status" -eq 0 ]
    [ "$(cat "$tmp/out")" = "$(printf '256-byte name: ENAMETOOLONG\n255-byte name: created')" ]
}
