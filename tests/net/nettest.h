/* SPDX-License-Identifier: Apache-2.0 */
/* Frame builders for the network tests: Ethernet, ARP, IPv4 and UDP with
 * real checksums, and a check of received UDP frames. */
#ifndef CAPSA_TESTS_NETTEST_H
#define CAPSA_TESTS_NETTEST_H

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

static inline uint16_t nt_csum(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static inline void nt_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* ARP request "who has tip, tell sip" from mac; 42 bytes. */
static inline size_t nt_arp_request(uint8_t *f, const uint8_t mac[6], uint32_t sip, uint32_t tip)
{
	memset(f, 0xff, 6);
	memcpy(f + 6, mac, 6);
	nt_put16(f + 12, 0x0806);
	uint8_t *a = f + 14;
	nt_put16(a, 1);
	nt_put16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	nt_put16(a + 6, 1);
	memcpy(a + 8, mac, 6);
	uint32_t s = htonl(sip), t = htonl(tip);
	memcpy(a + 14, &s, 4);
	memset(a + 18, 0, 6);
	memcpy(a + 24, &t, 4);
	return 42;
}

/* UDP/IPv4 frame; returns its length. */
static inline size_t nt_udp(uint8_t *f, const uint8_t dmac[6], const uint8_t smac[6], uint32_t sip,
                            uint32_t dip, uint16_t sport, uint16_t dport, const void *data,
                            size_t len)
{
	memcpy(f, dmac, 6);
	memcpy(f + 6, smac, 6);
	nt_put16(f + 12, 0x0800);
	uint8_t *ip = f + 14, *u = ip + 20;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	nt_put16(ip + 2, (uint16_t)(20 + 8 + len));
	nt_put16(ip + 4, 1);
	ip[8] = 64;
	ip[9] = 17;
	uint32_t s = htonl(sip), d = htonl(dip);
	memcpy(ip + 12, &s, 4);
	memcpy(ip + 16, &d, 4);
	nt_put16(ip + 10, nt_csum(ip, 20, 0));
	nt_put16(u, sport);
	nt_put16(u + 2, dport);
	nt_put16(u + 4, (uint16_t)(8 + len));
	nt_put16(u + 6, 0);
	memcpy(u + 8, data, len);
	uint32_t pseudo =
	    (sip >> 16) + (sip & 0xffff) + (dip >> 16) + (dip & 0xffff) + 17 + (uint32_t)(8 + len);
	uint16_t c = nt_csum(u, 8 + len, pseudo);
	nt_put16(u + 6, c ? c : 0xffff);
	return 14 + 20 + 8 + len;
}

#endif
