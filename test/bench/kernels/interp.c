/* interp: a bytecode interpreter's dispatch loop (a small register machine, switch dispatch). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum { LOADI, ADD, MUL, XOR, DEC, JNZ, HALT };

struct insn {
    uint8_t op, a, b, c;
    int32_t imm;
};

static int64_t run(const struct insn *code, int64_t *r)
{
    for (const struct insn *pc = code;; pc++) {
        switch (pc->op) {
        case LOADI: r[pc->a] = pc->imm; break;
        case ADD: r[pc->a] = r[pc->b] + r[pc->c]; break;
        case MUL: r[pc->a] = r[pc->b] * r[pc->c]; break;
        case XOR: r[pc->a] = r[pc->b] ^ r[pc->c]; break;
        case DEC: r[pc->a]--; break;
        case JNZ:
            if (r[pc->a])
                pc = code + pc->imm - 1;
            break;
        case HALT: return r[0];
        }
    }
}

int main(int argc, char **argv)
{
    int64_t r[8] = { 0 };
    r[1] = argc > 1 ? atoll(argv[1]) : 20000000;
    /* acc = 0; while (n) { acc += (n * 3) ^ 5; n--; } */
    const struct insn prog[] = {
        { LOADI, 3, 0, 0, 3 }, { LOADI, 4, 0, 0, 5 }, { MUL, 2, 1, 3, 0 },   /* 2: t = n * 3 */
        { XOR, 2, 2, 4, 0 },   /*    t ^= 5    */
        { ADD, 0, 0, 2, 0 },   /*    acc += t  */
        { DEC, 1, 0, 0, 0 },   /*    n--       */
        { JNZ, 1, 0, 0, 2 },   /*    loop      */
        { HALT, 0, 0, 0, 0 },
    };
    int64_t n = r[1];
    printf("interp %lld: %lld\n", (long long)n, (long long)run(prog, r));
    return 0;
}
