/* emulate: runs a block of instructions ferret emulates to go past a
 * breakpoint (moves, lea, push, call, jmp, nops, add/sub/cmp/and/or/xor/
 * test), with different register values each round, so a test can put a
 * breakpoint on each instruction and compare the emulation with what the
 * CPU does when it single-steps the same instruction.
 *
 *   emulate ROUNDS     runs the block ROUNDS times, prints "done"
 *   emulate fault      stores to address 0 at emu_fault (and dies) */
#include <stdio.h>
#include <stdlib.h>

unsigned char scratch[64] __attribute__((aligned(16)));

__asm__(".text\n.globl emu_callee\nemu_callee:\n ret\n");

void emu(unsigned long a, unsigned long b) {
    __asm__ volatile(
        "mov %0, %%r12\n"
        "mov %1, %%r13\n"
        ".globl emu_start\nemu_start:\n"
        "mov %%r12, %%rax\n"
        "mov %%r13, %%rbx\n"
        "lea scratch(%%rip), %%rcx\n"
        "mov %%rax, 8(%%rcx)\n"
        "movl %%ebx, 16(%%rcx)\n"
        "movw %%ax, 20(%%rcx)\n"
        "movb %%bl, 22(%%rcx)\n"
        "movb %%ah, 23(%%rcx)\n"
        "movq $-5, 24(%%rcx)\n"
        "movl $0x12345678, 32(%%rcx)\n"
        "movb $0x9a, 36(%%rcx)\n"
        "mov 8(%%rcx), %%rdx\n"
        "movl 16(%%rcx), %%edx\n"
        "movzbl 22(%%rcx), %%esi\n"
        "movsbq 23(%%rcx), %%rsi\n"
        "movslq 16(%%rcx), %%rdi\n"
        "movzwl %%ax, %%edi\n"
        "movswq %%bx, %%r8\n"
        "mov %%rax, %%r8\n"
        "movabs $0x1122334455667788, %%r9\n"
        "movb $7, %%r9b\n"
        "movw $-2, %%r9w\n"
        "movl $-3, %%r9d\n"
        "mov %%bl, %%ah\n"
        "lea 8(%%rcx,%%rbx,4), %%r10\n"
        "leal 3(%%rbx), %%r10d\n"
        "mov scratch+8(%%rip), %%r11\n"
        "push %%rax\n"
        "pop %%r11\n"
        "add %%rbx, %%rax\n"
        "sub %%rbx, %%rax\n"
        "sub $0x10, %%rax\n"
        "add $0x7f, %%al\n"
        "add %%bx, %%ax\n"
        "sub %%ebx, %%eax\n"
        "cmp %%rbx, %%rax\n"
        "cmp $5, %%eax\n"
        "cmpb $0x80, %%bl\n"
        "test %%rbx, %%rax\n"
        "test $1, %%al\n"
        "and %%rbx, %%rax\n"
        "or %%rbx, %%rax\n"
        "xor %%rbx, %%rax\n"
        "xor %%eax, %%eax\n"
        "add %%rbx, 8(%%rcx)\n"
        "subl $3, 16(%%rcx)\n"
        "cmpq $0, 8(%%rcx)\n"
        "orb $0x40, 22(%%rcx)\n"
        "nop\n"
        "nopl 0(%%rax)\n"
        "call emu_callee\n"
        "jmp 1f\n"
        "1:\n"
        ".globl emu_end\nemu_end:\n"
        "nop\n"
        :
        : "r"(a), "r"(b)
        : "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13",
          "memory", "cc");
}

int main(int argc, char **argv) {
    if (argc > 1 && argv[1][0] == 'f') {
        __asm__ volatile(".globl emu_fault\nemu_fault:\n movq $1, 0\n" ::: "memory");
    }
    int rounds = argc > 1 ? atoi(argv[1]) : 1;
    unsigned long a = 0x7fffffffffffff00UL, b = 0x100;
    for (int i = 0; i < rounds; i++) {
        emu(a, b);
        /* Values that carry, overflow, borrow, go negative or to zero. */
        a = a * 6364136223846793005UL + 1442695040888963407UL;
        b = (i % 3 == 0) ? a : (i % 3 == 1 ? ~a + 1 : b * 31 + 7);
    }
    printf("done\n");
    return 0;
}
