/* SPDX-License-Identifier: Apache-2.0 */
/* Virtio 1.x constants shared by the transport and the device models. */
#ifndef CAPSA_DEVICES_VIRTIO_VIRTIO_H
#define CAPSA_DEVICES_VIRTIO_VIRTIO_H

/* Device status bits. */
#define VIRTIO_STATUS_ACKNOWLEDGE 0x01
#define VIRTIO_STATUS_DRIVER      0x02
#define VIRTIO_STATUS_DRIVER_OK   0x04
#define VIRTIO_STATUS_FEATURES_OK 0x08
#define VIRTIO_STATUS_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED      0x80

/* Transport-level feature bits. */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX     29
#define VIRTIO_F_VERSION_1     32

/* Device IDs. */
#define VIRTIO_ID_NET     1
#define VIRTIO_ID_BLOCK   2
#define VIRTIO_ID_RNG     4
#define VIRTIO_ID_BALLOON 5
#define VIRTIO_ID_VSOCK   19

/* Interrupt status bits. */
#define VIRTIO_INT_USED   0x1
#define VIRTIO_INT_CONFIG 0x2

#endif
