#!/usr/bin/env bats
# lua.tar end to end through zvsh: Lua 5.4 built by `make images` from Debian's lua5.4 source
# with zvm-cc.  Lua raises errors with C setjmp/longjmp, so pcall, error and every runtime error
# run on zvm's WebAssembly exception handling.  Output is compared with Debian's lua5.4 (the
# host interpreter, `make deps`) running the same script.

load image_helpers
setup_file() { image_setup_file; }
setup() {
    image_setup lua.tar
}
teardown() { image_teardown; }

# native ARGS...: Debian's lua5.4 run as "lua" (its messages start with the program's name).
native() {
    command -v lua5.4 >/dev/null || skip "lua5.4 (Debian's Lua, installed by make deps) is missing: nothing to compare with"
    mkdir -p "$tmp/bin" && ln -sf "$(command -v lua5.4)" "$tmp/bin/lua"
    PATH=$tmp/bin:$PATH lua "$@"
}

@test "lua.tar: coroutines, pcall/error, patterns, tables and a runtime error with traceback, as Debian's lua5.4" {
    cp "$top/test/fixtures/lua_tour.lua" tour.lua
    tar cf scripts.tar tour.lua          # the script in its own image: the guest opens tour.lua as native lua does
    native tour.lua > native.out 2> native.err && nstatus=0 || nstatus=$?
    run timeout 60 "$zvsh" --zvm-image "$image" --zvm-image scripts.tar lua tour.lua
    [ "$status" -eq "$nstatus" ]
    [ "$status" -eq 1 ]
    timeout 60 "$zvsh" --zvm-image "$image" --zvm-image scripts.tar lua tour.lua > zvm.out 2> zvm.err || true
    diff -u native.out zvm.out
    diff -u native.err zvm.err
    # not two empty files: every part ran, and the error came with its traceback
    grep -qx "squares: 1,4,9,16,25,36" zvm.out
    grep -qx "caught 1000" zvm.out
    grep -q "^false	tour.lua:[0-9]*: bottom of 200$" zvm.out
    grep -qx "(11, 22)" zvm.out
    ! grep -q "not reached" zvm.out
    grep -q "^lua: tour.lua:[0-9]*: attempt to perform arithmetic on a nil value (local 'x')$" zvm.err
    grep -qx "stack traceback:" zvm.err
    grep -q "in function 'level1'" zvm.err
}

@test "lua.tar: a script given as @file, from stdin, and -e; os.exit's status" {
    printf 'print(("%%d squared is %%d"):format(12, 12 * 12))\n' > sq.lua
    run timeout 60 "$zvsh" --zvm-image "$image" lua @sq.lua
    [ "$status" -eq 0 ]
    [ "$output" = "12 squared is 144" ]
    run sh -c 'echo "io.write(select(\"#\", ...), \" \") print(pcall(error, \"x\"))" | "$0" --zvm-image "$1" lua - a b' "$zvsh" "$image"
    [ "$status" -eq 0 ]
    [ "$output" = "2 false	x" ]
    run timeout 60 "$zvsh" --zvm-image "$image" lua -e 'os.exit(7)'
    [ "$status" -eq 7 ]
}

@test "lua.tar: a syntax error, and an error object that is not a string, exit 1 with lua's messages" {
    run timeout 60 "$zvsh" --zvm-image "$image" lua -e 'print(1'
    [ "$status" -eq 1 ]
    [[ "$output" == "lua: (command line):1: ')' expected near <eof>"* ]]
    run timeout 60 "$zvsh" --zvm-image "$image" lua -e 'error(setmetatable({}, {__tostring = function() return "custom" end}))'
    [ "$status" -eq 1 ]
    [[ "$output" == "lua: custom"* ]]
}

@test "lua.tar: what WASI lacks fails with a reason instead of crashing" {
    run timeout 60 "$zvsh" --zvm-image "$image" lua -e '
print(os.execute())
print(os.execute("ls"))
print(io.tmpfile())
print(pcall(io.popen, "ls"))
print(pcall(os.tmpname))'
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "false" ]
    [[ "${lines[1]}" == "nil	"* ]]
    [[ "${lines[2]}" == "nil	"* ]]
    [ "${lines[3]}" = "false	'popen' not supported" ]
    [ "${lines[4]}" = "false	unable to generate a unique filename" ]
}
