/*
 * A libc-free program for the seccomp container tests: makes one raw system
 * call and prints its return value, so a test can call any number (i386,
 * x32-bit-marked, x86_64) with exact arguments. No libc: gcc here has no
 * 32-bit libc to link, and nothing else may make system calls first.
 *
 * usage: sysprobe NR [ARG...]   NR and ARGs decimal or 0x-hex; an ARG
 *        starting with '@' passes a pointer to the rest of the string.
 * prints: ret=N (N < 0 is -errno)
 */
typedef unsigned long word;

static word sys6(word nr, word a, word b, word c, word d, word e, word f)
{
	word ret;
#if defined(__x86_64__)
	register word r10 __asm__("r10") = d;
	register word r8 __asm__("r8") = e;
	register word r9 __asm__("r9") = f;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9) : "rcx", "r11", "memory");
#elif defined(__i386__)
	/* ebp is the sixth argument; not needed by the tests. */
	(void)f;
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c), "S"(d), "D"(e) : "memory");
#else
#error "x86_64 or i386 only"
#endif
	return ret;
}

static word parse(const char *s)
{
	word v = 0, base = 10;
	int neg = 0;
	if (*s == '@')
		return (word)(s + 1);
	if (*s == '-')
		neg = 1, s++;
	if (s[0] == '0' && s[1] == 'x')
		base = 16, s += 2;
	for (; *s; s++) {
		int d = *s >= 'a' ? *s - 'a' + 10 : *s - '0';
		v = v * base + d;
	}
	return neg ? -v : v;
}

static void say(long v)
{
	char buf[32], *p = buf + sizeof buf;
	unsigned long u = v < 0 ? -(unsigned long)v : (unsigned long)v;
	*--p = '\n';
	do
		*--p = '0' + u % 10;
	while (u /= 10);
	if (v < 0)
		*--p = '-';
	*--p = '=', *--p = 't', *--p = 'e', *--p = 'r';
#if defined(__x86_64__)
	sys6(1, 1, (word)p, buf + sizeof buf - p, 0, 0, 0);
#else
	sys6(4, 1, (word)p, buf + sizeof buf - p, 0, 0, 0);
#endif
}

static void exit_(int code)
{
#if defined(__x86_64__)
	sys6(60, code, 0, 0, 0, 0, 0);
#else
	sys6(1, code, 0, 0, 0, 0, 0);
#endif
	for (;;)
		;
}

void main_c(word *sp)
{
	word argc = sp[0];
	char **argv = (char **)(sp + 1);
	word a[7] = {0};
	for (word i = 1; i < argc && i <= 7; i++)
		a[i - 1] = parse(argv[i]);
	if (argc < 2)
		exit_(2);
	say((long)sys6(a[0], a[1], a[2], a[3], a[4], a[5], a[6]));
	exit_(0);
}

#if defined(__x86_64__)
__asm__(".globl _start\n_start:\n mov %rsp, %rdi\n and $-16, %rsp\n call main_c\n hlt\n");
#else
__asm__(".globl _start\n_start:\n mov %esp, %eax\n and $-16, %esp\n sub $12, %esp\n push %eax\n call main_c\n hlt\n");
#endif
