#include "devices/i8042.h"

#include <string.h>

#define STATUS_OBF      0x01
#define STATUS_SYS      0x04
#define STATUS_CMD      0x08
#define STATUS_UNLOCKED 0x10 /* keyboard not inhibited by the keylock */

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

static void push(struct i8042 *k, uint8_t v)
{
	if (k->nout < sizeof(k->out))
		k->out[k->nout++] = v;
}

static uint8_t pop(struct i8042 *k)
{
	if (!k->nout)
		return 0;
	uint8_t v = k->out[0];
	memmove(k->out, k->out + 1, --k->nout);
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
		break;
	case CMD_WRITE_OUT:
		if (!(v & 1)) /* output port bit 0 low resets the CPU */
			k->ctl.request_end(k->ctl.ctx, VM_END_RESET, 0);
		break;
	case CMD_WRITE_KBD_OUT:
	case CMD_WRITE_AUX_OUT:
		push(k, v); /* loop back as if the device had sent it */
		break;
	case CMD_WRITE_AUX:
		push(k, 0xfe); /* no mouse: resend/not acknowledged */
		break;
	default:
		push(k, 0xfe); /* no keyboard attached */
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

void i8042_init(struct i8042 *k, const struct vm_control *ctl)
{
	memset(k, 0, sizeof(*k));
	pthread_mutex_init(&k->lock, NULL);
	k->ctl = *ctl;
	k->ctr = 0x30 | 0x04; /* both ports disabled, system flag */
}

void i8042_destroy(struct i8042 *k)
{
	pthread_mutex_destroy(&k->lock);
}
