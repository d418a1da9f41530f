//go:build !purego

#include "textflag.h"

// func specialIndex16(data []byte, high bool) int
//
// SSE2, which every amd64 processor has: sixteen bytes a round.
TEXT ·specialIndex16(SB), NOSPLIT, $0-40
	MOVQ data_base+0(FP), SI
	MOVQ data_len+8(FP), CX
	MOVBLZX high+24(FP), R8
	ANDQ $~15, CX
	XORQ DI, DI
	MOVQ $0x2222222222222222, AX
	MOVQ AX, X4
	PUNPCKLQDQ X4, X4
	MOVQ $0x5c5c5c5c5c5c5c5c, AX
	MOVQ AX, X5
	PUNPCKLQDQ X5, X5
	MOVQ $0x1f1f1f1f1f1f1f1f, AX
	MOVQ AX, X6
	PUNPCKLQDQ X6, X6

loop:
	CMPQ DI, CX
	JAE done
	MOVOU (SI)(DI*1), X0
	// Quotes and backslashes.
	MOVOA X0, X1
	PCMPEQB X4, X1
	MOVOA X0, X2
	PCMPEQB X5, X2
	POR X2, X1
	// Control characters: the bytes that are their minimum with 0x1f.
	MOVOA X0, X3
	PMINUB X6, X3
	PCMPEQB X0, X3
	POR X3, X1
	PMOVMSKB X1, AX
	TESTQ R8, R8
	JZ test
	// Bytes beyond ASCII: their high bits.
	PMOVMSKB X0, BX
	ORL BX, AX

test:
	TESTL AX, AX
	JNZ found
	ADDQ $16, DI
	JMP loop

found:
	BSFL AX, AX
	ADDQ AX, DI

done:
	MOVQ DI, ret+32(FP)
	RET
