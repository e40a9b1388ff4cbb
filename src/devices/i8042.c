/* SPDX-License-Identifier: Apache-2.0 */
#include "devices/i8042.h"

#include <string.h>

#define STATUS_OBF      0x01
#define STATUS_SYS      0x04
#define STATUS_CMD      0x08
#define STATUS_UNLOCKED 0x10 /* keyboard not inhibited by the keylock */
#define STATUS_AUXDATA  0x20 /* the byte in the output buffer is the mouse's */

#define CTR_KBD_INT 0x01
#define CTR_AUX_INT 0x02
#define CTR_XLATE   0x40

#define CMD_READ_CTR      0x20
#define CMD_WRITE_CTR     0x60
#define CMD_AUX_DIS       0xa7
#define CMD_AUX_EN        0xa8
#define CMD_AUX_TEST      0xa9
#define CMD_SELF_TEST     0xaa
#define CMD_KBD_TEST      0xab
#define CMD_KBD_DIS       0xad
#define CMD_KBD_EN        0xae
#define CMD_READ_OUT      0xd0
#define CMD_WRITE_OUT     0xd1
#define CMD_WRITE_KBD_OUT 0xd2
#define CMD_WRITE_AUX_OUT 0xd3
#define CMD_WRITE_AUX     0xd4
#define CMD_PULSE_RESET   0xfe

static void push_from(struct i8042 *k, uint8_t v, int aux)
{
	if (k->nout < sizeof(k->out)) {
		k->aux[k->nout] = (uint8_t)aux;
		k->out[k->nout++] = v;
	}
}

static void push(struct i8042 *k, uint8_t v)
{
	push_from(k, v, 0);
}

/* A byte from an attached device: it raises that port's interrupt when
 * the guest enabled it (an edge on the ISA line). */
static void push_device(struct i8042 *k, uint8_t v, int aux)
{
	push_from(k, v, aux);
	const struct irq_line *l = aux ? &k->aux_irq : &k->kbd_irq;
	if (k->ctr & (aux ? CTR_AUX_INT : CTR_KBD_INT)) {
		irq_line_set(l, 1);
		irq_line_set(l, 0);
	}
}

/* Scancode set 2 to set 1, as the controller translates when CTR bit 6 is
 * set; only for the keys capsa types (Ctrl, Alt, Delete). */
static uint8_t set1_of(uint8_t v)
{
	switch (v) {
	case 0x14:
		return 0x1d;
	case 0x11:
		return 0x38;
	case 0x71:
		return 0x53;
	default:
		return v;
	}
}

/* The next typed byte goes out once the output buffer is empty and the
 * keyboard port enabled, as a real keyboard waits for its controller; a
 * set 2 break (0xf0, code) becomes one set 1 byte with bit 7 set. */
static void feed_key(struct i8042 *k)
{
	if (!k->nkeys || k->nout || (k->ctr & 0x10))
		return;
	uint8_t v = k->keys[0];
	unsigned used = 1;
	if (k->ctr & CTR_XLATE) {
		if (v == 0xf0 && k->nkeys > 1) {
			v = set1_of(k->keys[1]) | 0x80;
			used = 2;
		} else {
			v = set1_of(v);
		}
	}
	k->nkeys -= used;
	memmove(k->keys, k->keys + used, k->nkeys);
	push_device(k, v, 0);
}

static uint8_t pop(struct i8042 *k)
{
	if (!k->nout)
		return 0;
	uint8_t v = k->out[0];
	memmove(k->out, k->out + 1, --k->nout);
	memmove(k->aux, k->aux + 1, k->nout);
	feed_key(k);
	return v;
}

static void command(struct i8042 *k, uint8_t cmd)
{
	switch (cmd) {
	case CMD_READ_CTR:
		push(k, k->ctr);
		break;
	case CMD_WRITE_CTR:
	case CMD_WRITE_OUT:
	case CMD_WRITE_KBD_OUT:
	case CMD_WRITE_AUX_OUT:
	case CMD_WRITE_AUX:
		k->pending = cmd;
		break;
	case CMD_SELF_TEST:
		push(k, 0x55);
		break;
	case CMD_AUX_TEST:
	case CMD_KBD_TEST:
		push(k, 0x00); /* port test passed */
		break;
	case CMD_READ_OUT:
		push(k, 0x01); /* A20 on, not in reset */
		break;
	case CMD_AUX_DIS:
		k->ctr |= 0x20;
		break;
	case CMD_AUX_EN:
		k->ctr &= (uint8_t)~0x20;
		break;
	case CMD_KBD_DIS:
		k->ctr |= 0x10;
		break;
	case CMD_KBD_EN:
		k->ctr &= (uint8_t)~0x10;
		feed_key(k);
		break;
	default:
		/* 0xf0-0xff pulse output lines; bit 0 low is the CPU reset line. */
		if (cmd >= 0xf0 && !(cmd & 1))
			k->ctl.request_end(k->ctl.ctx, VM_END_RESET, 0);
		break;
	}
}

static void data_write(struct i8042 *k, uint8_t v)
{
	uint8_t cmd = k->pending;
	k->pending = 0;
	switch (cmd) {
	case CMD_WRITE_CTR:
		k->ctr = v;
		feed_key(k);
		break;
	case CMD_WRITE_OUT:
		if (!(v & 1)) /* output port bit 0 low resets the CPU */
			k->ctl.request_end(k->ctl.ctx, VM_END_RESET, 0);
		break;
	case CMD_WRITE_KBD_OUT:
	case CMD_WRITE_AUX_OUT:
		/* loop back as if the device had sent it */
		push_device(k, v, cmd == CMD_WRITE_AUX_OUT);
		break;
	case CMD_WRITE_AUX:
		push_device(k, 0xfe, 1); /* no mouse: resend/not acknowledged */
		break;
	default:
		push_device(k, 0xfe, 0); /* no keyboard attached */
		break;
	}
}

static void i8042_read(void *dev, uint64_t off, uint8_t *data, unsigned size)
{
	struct i8042 *k = dev;
	memset(data, 0, size);
	if (off == 0)
		data[0] = pop(k);
	else if (off != 4)
		memset(data, 0xff, size); /* 0x61-0x63 are not ours */
	else
		data[0] = (uint8_t)(STATUS_SYS | STATUS_UNLOCKED | (k->nout ? STATUS_OBF : 0) |
		                    (k->nout && k->aux[0] ? STATUS_AUXDATA : 0) |
		                    (k->pending ? STATUS_CMD : 0));
}

static void i8042_write(void *dev, uint64_t off, const uint8_t *data, unsigned size)
{
	struct i8042 *k = dev;
	(void)size;
	if (off == 0)
		data_write(k, data[0]);
	else if (off == 4)
		command(k, data[0]);
}

const struct io_ops i8042_ops = {i8042_read, i8042_write};

/* The same ports as two one-byte ranges, leaving 0x61-0x63 to others. */
static void cmd_read(void *dev, uint64_t off, uint8_t *data, unsigned size)
{
	i8042_read(dev, off + 4, data, size);
}

static void cmd_write(void *dev, uint64_t off, const uint8_t *data, unsigned size)
{
	i8042_write(dev, off + 4, data, size);
}

const struct io_ops i8042_data_ops = {i8042_read, i8042_write};
const struct io_ops i8042_cmd_ops = {cmd_read, cmd_write};

void i8042_init(struct i8042 *k, const struct vm_control *ctl, const struct irq_line *kbd_irq,
                const struct irq_line *aux_irq)
{
	memset(k, 0, sizeof(*k));
	pthread_mutex_init(&k->lock, NULL);
	k->ctl = *ctl;
	if (kbd_irq)
		k->kbd_irq = *kbd_irq;
	if (aux_irq)
		k->aux_irq = *aux_irq;
	k->ctr = 0x30 | 0x04; /* both ports disabled, system flag */
}

void i8042_destroy(struct i8042 *k)
{
	pthread_mutex_destroy(&k->lock);
}

void i8042_ctrl_alt_del(struct i8042 *k)
{
	/* set 2: Ctrl, Alt, Delete down, then up in reverse order */
	static const uint8_t seq[] = {0x14, 0x11, 0xe0, 0x71, 0xe0, 0xf0,
	                              0x71, 0xf0, 0x11, 0xf0, 0x14};
	pthread_mutex_lock(&k->lock);
	if (k->nkeys + sizeof(seq) <= sizeof(k->keys)) {
		memcpy(k->keys + k->nkeys, seq, sizeof(seq));
		k->nkeys += (unsigned)sizeof(seq);
	}
	feed_key(k);
	pthread_mutex_unlock(&k->lock);
}
