// SPDX-License-Identifier: MIT
/*
 * virtio-net device model (virtio 1.x, section "Network Device"): the
 * transmit path (validation, checksum completion, the backend), the host
 * receive queue, receive delivery with and without merged buffers, the
 * worker thread and the virtio-pci glue. See net.h for the guest-visible
 * behaviour.
 */
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "hostel/log.h"
#include "virtio/net/net.h"
#include "virtio/pci/vpci.h"

_Static_assert(sizeof(struct virtio_net_hdr_v1) == VNET_HDR_LEN, "virtio_net_hdr_v1 layout");
_Static_assert(sizeof(struct netbe_hdr) == VNET_HDR_LEN &&
		       offsetof(struct netbe_hdr, csum_offset) ==
			       offsetof(struct virtio_net_hdr_v1, csum_offset) &&
		       offsetof(struct netbe_hdr, num_buffers) ==
			       offsetof(struct virtio_net_hdr_v1, num_buffers),
	       "netbe_hdr is virtio_net_hdr_v1");
_Static_assert(NETBE_F_GUEST_CSUM == 1ull << VIRTIO_NET_F_GUEST_CSUM &&
		       NETBE_F_GUEST_TSO4 == 1ull << VIRTIO_NET_F_GUEST_TSO4 &&
		       NETBE_F_GUEST_TSO6 == 1ull << VIRTIO_NET_F_GUEST_TSO6 &&
		       NETBE_F_GUEST_ECN == 1ull << VIRTIO_NET_F_GUEST_ECN &&
		       NETBE_F_HOST_TSO4 == 1ull << VIRTIO_NET_F_HOST_TSO4 &&
		       NETBE_F_HOST_TSO6 == 1ull << VIRTIO_NET_F_HOST_TSO6 &&
		       NETBE_F_HOST_ECN == 1ull << VIRTIO_NET_F_HOST_ECN,
	       "virtio-net feature bits");

#define F_CSUM (1ull << VIRTIO_NET_F_CSUM)

/* struct virtio_net_config up to mtu: mac[6], status, max_virtqueue_pairs, mtu. */
#define CFG_SIZE 12u
/* Chains served per queue before the worker looks at the other one. */
#define BUDGET 128

struct rx_frame {
	size_t len;
	bool has_hdr; /* the backend gave a header (offloads) */
	struct netbe_hdr hdr;
	uint8_t data[];
};

struct rx_used {
	uint16_t head;
	uint32_t len;
};

struct vnet {
	struct netbe *be;
	uint8_t mac[6];
	uint64_t offered;
	uint64_t negotiated; /* under lock */

	pthread_mutex_t lock; /* the queues and everything the worker uses */
	struct virtq *rxq, *txq;
	int rx_kick, tx_kick;
	struct vnet_queue_cb rx_cb, tx_cb;
	bool broken;
	pthread_t thread;
	bool running;
	bool stop; /* under lock */
	int wake_fd;

	/* Host receive queue, filled by the backend's thread. */
	pthread_mutex_t qlock;
	bool rx_open; /* the receive queue runs: frames are queued */
	bool be_waiting;
	struct rx_frame *q[VNET_RXQ_FRAMES];
	unsigned int qhead, qcount;
	size_t qbytes;

	struct vnet_stats st; /* under lock, except the rx_dropped_* of the backend side (qlock) */
	struct vnet_stats qst;

	struct virtq_chain chain, first;
	struct rx_used used[VIRTQ_MAX_SIZE];
	uint8_t txbuf[VNET_TX_MAX];
};

/* ---- MAC, config, features --------------------------------------------------- */

void vnet_mac_from_seed(const char *seed, unsigned int index, uint8_t mac[6])
{
	/* FNV-1a, 64-bit: stable across runs and builds, no randomness. */
	uint64_t h = 0xcbf29ce484222325ull;

	for (const char *p = seed ? seed : ""; *p; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
	for (unsigned int i = 0; i < 4; i++)
		h = (h ^ ((index >> (8 * i)) & 0xff)) * 0x100000001b3ull;
	for (unsigned int i = 0; i < 6; i++)
		mac[i] = (uint8_t)(h >> (8 * i));
	/* Locally administered (bit 1), unicast (bit 0 clear). */
	mac[0] = (uint8_t)((mac[0] & 0xfc) | 0x02);
}

unsigned int vnet_config_size(void)
{
	return CFG_SIZE;
}

void vnet_config_read(struct vnet *n, uint64_t off, void *data, unsigned int len)
{
	uint8_t cfg[CFG_SIZE];
	uint16_t status = htole16(VIRTIO_NET_S_LINK_UP), pairs = htole16(1), mtu = htole16(1500);

	memcpy(cfg, n->mac, 6);
	memcpy(cfg + 6, &status, 2);
	memcpy(cfg + 8, &pairs, 2);
	memcpy(cfg + 10, &mtu, 2);
	memset(data, 0, len);
	if (off < CFG_SIZE)
		memcpy(data, cfg + off, MIN((uint64_t)len, CFG_SIZE - off));
}

void vnet_config_write(struct vnet *n, uint64_t off, const void *data, unsigned int len)
{
	/* mac is writable only with the legacy interface; nothing else ever. */
	(void)n;
	(void)data;
	(void)len;
	log_ratelimited(LOG_DEBUG, "virtio-net: config write at %#llx ignored",
			(unsigned long long)off);
}

uint64_t vnet_features(const struct vnet *n)
{
	return n->offered;
}

uint64_t vnet_negotiated(struct vnet *n)
{
	uint64_t f;

	pthread_mutex_lock(&n->lock);
	f = n->negotiated;
	pthread_mutex_unlock(&n->lock);
	return f;
}

/*
 * What @negotiated really turns on: an offload whose prerequisite the
 * driver did not take (TSO without its checksum offload, ECN without TSO)
 * stays off, whatever the driver wrote.
 */
static uint64_t effective_features(uint64_t negotiated)
{
	if (!(negotiated & F_CSUM))
		negotiated &= ~(NETBE_F_HOST_TSO4 | NETBE_F_HOST_TSO6 | NETBE_F_HOST_ECN);
	if (!(negotiated & (NETBE_F_HOST_TSO4 | NETBE_F_HOST_TSO6)))
		negotiated &= ~NETBE_F_HOST_ECN;
	if (!(negotiated & NETBE_F_GUEST_CSUM))
		negotiated &= ~(NETBE_F_GUEST_TSO4 | NETBE_F_GUEST_TSO6 | NETBE_F_GUEST_ECN);
	if (!(negotiated & (NETBE_F_GUEST_TSO4 | NETBE_F_GUEST_TSO6)))
		negotiated &= ~NETBE_F_GUEST_ECN;
	return negotiated;
}

void vnet_set_features(struct vnet *n, uint64_t negotiated)
{
	uint64_t eff = effective_features(negotiated & n->offered);
	int r;

	pthread_mutex_lock(&n->lock);
	n->negotiated = eff;
	pthread_mutex_unlock(&n->lock);
	/*
	 * Frames the backend queued under older settings may still come:
	 * rx_frame checks each header against n->negotiated, not this.
	 */
	if (netbe_has_offloads(n->be) && (r = netbe_set_rx_offloads(n->be, eff)) < 0)
		log_ratelimited(LOG_DEBUG, "virtio-net: backend receive offloads: %s",
				strerror(-r));
}

void vnet_get_stats(struct vnet *n, struct vnet_stats *st)
{
	pthread_mutex_lock(&n->lock);
	*st = n->st;
	pthread_mutex_unlock(&n->lock);
	pthread_mutex_lock(&n->qlock);
	st->rx_dropped_full = n->qst.rx_dropped_full;
	st->rx_dropped_idle = n->qst.rx_dropped_idle;
	st->rx_dropped_oversize = n->qst.rx_dropped_oversize;
	st->rx_queued = n->qcount;
	pthread_mutex_unlock(&n->qlock);
}

/* ---- host receive queue (any thread) -------------------------------------------- */

static void wake(struct vnet *n)
{
	uint64_t one = 1;

	if (write(n->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_ratelimited(LOG_ERROR, "virtio-net: waking the worker: %s", strerror(errno));
}

static bool peer_can_rx(void *opaque)
{
	struct vnet *n = opaque;
	bool ok;

	pthread_mutex_lock(&n->qlock);
	ok = n->rx_open && n->qcount < VNET_RXQ_FRAMES && n->qbytes < VNET_RXQ_BYTES;
	if (!ok && n->rx_open)
		n->be_waiting = true;
	pthread_mutex_unlock(&n->qlock);
	return ok;
}

static void peer_rx(void *opaque, const struct netbe_hdr *hdr, const void *frame, size_t len)
{
	struct vnet *n = opaque;
	struct rx_frame *f = NULL;

	if (len > VNET_RX_MAX) {
		pthread_mutex_lock(&n->qlock);
		n->qst.rx_dropped_oversize++;
		pthread_mutex_unlock(&n->qlock);
		return;
	}
	pthread_mutex_lock(&n->qlock);
	if (!n->rx_open) {
		n->qst.rx_dropped_idle++;
		goto out;
	}
	if (n->qcount >= VNET_RXQ_FRAMES || n->qbytes + len > VNET_RXQ_BYTES) {
		n->qst.rx_dropped_full++;
		log_ratelimited(LOG_DEBUG, "virtio-net: receive queue full, frame dropped");
		goto out;
	}
	f = malloc(sizeof(*f) + len);
	if (!f) {
		n->qst.rx_dropped_full++;
		goto out;
	}
	f->len = len;
	f->has_hdr = hdr != NULL;
	if (hdr)
		f->hdr = *hdr;
	memcpy(f->data, frame, len);
	n->q[(n->qhead + n->qcount) % VNET_RXQ_FRAMES] = f;
	n->qcount++;
	n->qbytes += len;
out:
	pthread_mutex_unlock(&n->qlock);
	if (f)
		wake(n);
}

static struct rx_frame *q_peek(struct vnet *n)
{
	struct rx_frame *f;

	pthread_mutex_lock(&n->qlock);
	f = n->qcount ? n->q[n->qhead] : NULL;
	pthread_mutex_unlock(&n->qlock);
	return f;
}

/* Remove the head frame (the worker is the only consumer). True: tell the backend to resume. */
static bool q_drop_head(struct vnet *n)
{
	struct rx_frame *f;
	bool resume = false;

	pthread_mutex_lock(&n->qlock);
	f = n->q[n->qhead];
	n->q[n->qhead] = NULL;
	n->qhead = (n->qhead + 1) % VNET_RXQ_FRAMES;
	n->qcount--;
	n->qbytes -= f->len;
	if (n->be_waiting && n->qcount <= VNET_RXQ_FRAMES / 2) {
		n->be_waiting = false;
		resume = true;
	}
	pthread_mutex_unlock(&n->qlock);
	free(f);
	return resume;
}

static void q_clear(struct vnet *n)
{
	pthread_mutex_lock(&n->qlock);
	while (n->qcount) {
		free(n->q[n->qhead]);
		n->q[n->qhead] = NULL;
		n->qhead = (n->qhead + 1) % VNET_RXQ_FRAMES;
		n->qcount--;
	}
	n->qhead = 0;
	n->qbytes = 0;
	n->be_waiting = false;
	pthread_mutex_unlock(&n->qlock);
}

/* ---- queues (lock held) ------------------------------------------------------------ */

static void queue_broken(struct vnet *n, const char *which)
{
	if (n->broken)
		return;
	n->broken = true;
	n->st.broken++;
	log_ratelimited(LOG_WARN, "virtio-net: %s broken, needs reset", which);
	if (n->rx_cb.needs_reset)
		n->rx_cb.needs_reset(n->rx_cb.opaque);
	else if (n->tx_cb.needs_reset)
		n->tx_cb.needs_reset(n->tx_cb.opaque);
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* One's complement sum of @p[0..len) as big-endian 16-bit words. */
static uint32_t csum_add(const uint8_t *p, size_t len)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (i < len)
		sum += (uint32_t)p[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint32_t)sum;
}

/*
 * A partial checksum (CHECKSUM_PARTIAL): the sender stored the
 * pseudo-header sum in the field at @start + @off; the sum from @start to
 * the end of the frame, field included, folded and inverted, is the
 * checksum. 0 becomes 0xffff, which means the same and is not "no
 * checksum" for UDP. The caller checked @start + @off + 2 <= @flen.
 */
static void csum_complete(uint8_t *frame, size_t flen, size_t start, size_t off)
{
	uint16_t c = csum_fold(csum_add(frame + start, flen - start));

	if (c == 0)
		c = 0xffff;
	frame[start + off] = (uint8_t)(c >> 8);
	frame[start + off + 1] = (uint8_t)c;
}

/* A NEEDS_CSUM header's start and offset leave room for the field in @flen bytes. */
static bool csum_range_ok(const struct netbe_hdr *h, size_t flen)
{
	size_t start = le16toh(h->csum_start), off = le16toh(h->csum_offset);

	return start < flen && off <= flen - start && flen - start - off >= 2;
}

/*
 * A header's segmentation offload is one @f allows (the HOST_* bits on
 * transmit, or the GUEST_* bits on receive, in @tso4/@tso6/@ecn) and well
 * formed: TCP over IPv4 or IPv6, ECN only with its feature, a segment
 * size, a partial checksum.
 */
static bool gso_ok(const struct netbe_hdr *h, uint64_t f, uint64_t tso4, uint64_t tso6,
		   uint64_t ecn)
{
	uint8_t type = h->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;

	if (h->gso_type == VIRTIO_NET_HDR_GSO_NONE)
		return true;
	if ((type == VIRTIO_NET_HDR_GSO_TCPV4 && !(f & tso4)) ||
	    (type == VIRTIO_NET_HDR_GSO_TCPV6 && !(f & tso6)) ||
	    (type != VIRTIO_NET_HDR_GSO_TCPV4 && type != VIRTIO_NET_HDR_GSO_TCPV6))
		return false;
	if ((h->gso_type & VIRTIO_NET_HDR_GSO_ECN) && !(f & ecn))
		return false;
	return le16toh(h->gso_size) != 0 && (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM);
}

/*
 * Validate and send one transmit chain. The whole chain is copied once into
 * txbuf; every decision is made on that copy. 0: sent (or refused by the
 * backend); -EINVAL: malformed, dropped.
 */
static int tx_chain(struct vnet *n, const struct virtq_chain *ch)
{
	struct netbe_hdr hdr, out = {0};
	uint8_t *frame = n->txbuf + VNET_HDR_LEN;
	bool hw = netbe_has_offloads(n->be);
	size_t flen;
	int r;

	if (ch->nr_read != ch->nr_segs || ch->nr_segs > VNET_TX_MAX_SEGS)
		return -EINVAL;
	if (ch->read_len < VNET_HDR_LEN + VNET_ETH_HLEN || ch->read_len > VNET_TX_MAX)
		return -EINVAL;
	if (virtq_chain_read(ch, 0, n->txbuf, ch->read_len) != ch->read_len)
		return -EINVAL;
	memcpy(&hdr, n->txbuf, sizeof(hdr));
	flen = ch->read_len - VNET_HDR_LEN;
	/* Only what was negotiated (HOST_TSO* with a backend that takes them). */
	if (!gso_ok(&hdr, n->negotiated, NETBE_F_HOST_TSO4, NETBE_F_HOST_TSO6, NETBE_F_HOST_ECN) ||
	    (hdr.gso_type != VIRTIO_NET_HDR_GSO_NONE && le16toh(hdr.hdr_len) > flen))
		return -EINVAL;
	if (hdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		if (!(n->negotiated & F_CSUM) || !csum_range_ok(&hdr, flen))
			return -EINVAL;
		/* A backend with offloads has its kernel finish it. */
		if (!hw)
			csum_complete(frame, flen, le16toh(hdr.csum_start),
				      le16toh(hdr.csum_offset));
	}
	if (hw) {
		/* The header as read, minus flags with no meaning on transmit. */
		out = hdr;
		out.flags &= VIRTIO_NET_HDR_F_NEEDS_CSUM;
		out.num_buffers = 0;
		r = n->be->ops->send_hdr(n->be, &out, frame, flen);
	} else {
		r = netbe_send(n->be, frame, flen);
	}
	if (r < 0) {
		n->st.tx_errors++;
		return 0;
	}
	if (out.gso_type != VIRTIO_NET_HDR_GSO_NONE)
		n->st.tx_gso++;
	n->st.tx_frames++;
	n->st.tx_bytes += flen;
	return 0;
}

/* Serve up to BUDGET transmit chains. True: more may be waiting. */
static bool process_tx(struct vnet *n)
{
	unsigned int done = 0;
	int r;

	if (!n->txq || n->broken)
		return false;
	for (;;) {
		virtq_set_notify(n->txq, false);
		while (done < BUDGET && (r = virtq_pop(n->txq, &n->chain)) != 0) {
			if (r == -EIO) {
				queue_broken(n, "transmitq");
				return false;
			}
			if (r != 1) {
				n->st.tx_bad_chains++;
			} else if (tx_chain(n, &n->chain) < 0) {
				n->st.tx_malformed++;
				log_ratelimited(LOG_DEBUG,
						"virtio-net: malformed transmit chain %u dropped",
						n->chain.head);
			}
			virtq_push(n->txq, n->chain.head, 0);
			done++;
		}
		if (done >= BUDGET)
			return true; /* notifications stay off: the worker comes back */
		/* Re-enable, then re-check (virtq.h: closes the race with the driver's kick). */
		virtq_set_notify(n->txq, true);
		if (!virtq_has_avail(n->txq))
			return false;
	}
}

/* Complete every chain in used[0..cnt) with length 0 (a dropped frame). */
static void rx_push_zero(struct vnet *n, unsigned int cnt)
{
	for (unsigned int i = 0; i < cnt; i++)
		virtq_push(n->rxq, n->used[i].head, 0);
}

enum rx_result { RX_DONE, RX_WAIT };

/*
 * The header for the guest from the backend's header of @f, by what the
 * guest negotiated now (it may have changed since the backend was told):
 * a partial checksum the guest did not take is finished here (and the
 * flag cleared in @f, so a retry does not redo it); DATA_VALID only with
 * GUEST_CSUM; a segmentation offload it did not take cannot be undone
 * here: -EINVAL, the frame is dropped.
 */
static int rx_offloads(struct vnet *n, struct rx_frame *f, struct netbe_hdr *hdr)
{
	bool csum = n->negotiated & NETBE_F_GUEST_CSUM;

	if (!gso_ok(&f->hdr, n->negotiated, NETBE_F_GUEST_TSO4, NETBE_F_GUEST_TSO6,
		    NETBE_F_GUEST_ECN))
		return -EINVAL;
	if (f->hdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		if (!csum_range_ok(&f->hdr, f->len))
			return -EINVAL;
		if (!csum) {
			csum_complete(f->data, f->len, le16toh(f->hdr.csum_start),
				      le16toh(f->hdr.csum_offset));
			f->hdr.flags &= (uint8_t)~VIRTIO_NET_HDR_F_NEEDS_CSUM;
		}
	}
	*hdr = f->hdr;
	hdr->flags &= csum ? VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID : 0;
	if (hdr->gso_type == VIRTIO_NET_HDR_GSO_NONE)
		hdr->gso_size = hdr->hdr_len = 0;
	if (!(hdr->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
		hdr->csum_start = hdr->csum_offset = 0;
	hdr->num_buffers = htole16(1);
	return 0;
}

/*
 * Put one frame into receive buffers. RX_DONE: delivered or dropped (the
 * frame leaves the host queue); RX_WAIT: no buffers yet, the frame stays.
 */
static enum rx_result rx_frame(struct vnet *n, struct rx_frame *f)
{
	bool mrg = n->negotiated & (1ull << VIRTIO_NET_F_MRG_RXBUF);
	struct netbe_hdr hdr = {.gso_type = VIRTIO_NET_HDR_GSO_NONE, .num_buffers = htole16(1)};
	uint64_t need = VNET_HDR_LEN + f->len, off = 0;
	unsigned int cnt = 0;
	int r;

	if (f->has_hdr && rx_offloads(n, f, &hdr) < 0) {
		n->st.rx_dropped_offload++;
		log_ratelimited(LOG_DEBUG, "virtio-net: received frame's offload not negotiated, "
					   "dropped");
		return RX_DONE;
	}
	if (hdr.gso_type != VIRTIO_NET_HDR_GSO_NONE)
		n->st.rx_gso++;

	while (off < need) {
		struct virtq_chain *ch = cnt ? &n->chain : &n->first;
		uint64_t take;

		r = virtq_pop(n->rxq, ch);
		if (r == 0) {
			if (cnt && cnt >= n->rxq->cfg.size) {
				/* The whole ring holds less than the frame: it never fits. */
				rx_push_zero(n, cnt);
				n->st.rx_dropped_nobuf++;
				return RX_DONE;
			}
			/* Too few buffers for now: give them back, wait for a kick. */
			while (cnt)
				virtq_unpop(n->rxq, n->used[--cnt].head);
			return RX_WAIT;
		}
		if (r == -EIO) {
			queue_broken(n, "receiveq");
			return RX_WAIT;
		}
		n->used[cnt++] = (struct rx_used){.head = ch->head, .len = 0};
		if (r != 1 || ch->nr_read != 0 || ch->write_len < VNET_HDR_LEN ||
		    (!mrg && ch->write_len < need)) {
			/* Spec: each buffer takes at least a header; without MRG, the whole frame. */
			n->st.rx_bad_buffers++;
			n->st.rx_dropped_nobuf++;
			log_ratelimited(LOG_DEBUG, "virtio-net: receive buffer %u unusable",
					ch->head);
			rx_push_zero(n, cnt);
			return RX_DONE;
		}
		take = MIN(ch->write_len, need - off);
		/* The header's bytes, then the frame's, at their place in this chain. */
		for (uint64_t done = 0; done < take;) {
			uint64_t pos = off + done, k;

			if (pos < VNET_HDR_LEN) {
				k = MIN(take - done, VNET_HDR_LEN - pos);
				virtq_chain_write(ch, done, (const uint8_t *)&hdr + pos, k);
			} else {
				k = take - done;
				virtq_chain_write(ch, done, f->data + (pos - VNET_HDR_LEN), k);
			}
			done += k;
		}
		n->used[cnt - 1].len = (uint32_t)take;
		off += take;
	}
	if (cnt > 1) {
		uint16_t nb = htole16((uint16_t)cnt);

		virtq_chain_write(&n->first, offsetof(struct netbe_hdr, num_buffers), &nb,
				  sizeof(nb));
	}
	for (unsigned int i = 0; i < cnt; i++)
		virtq_push(n->rxq, n->used[i].head, n->used[i].len);
	n->st.rx_frames++;
	n->st.rx_bytes += f->len;
	return RX_DONE;
}

/* Move queued frames into receive buffers. True: more may be deliverable now. */
static bool process_rx(struct vnet *n, bool *resume)
{
	unsigned int done = 0;
	struct rx_frame *f;

	if (!n->rxq || n->broken)
		return false;
	while ((f = q_peek(n)) != NULL) {
		if (done == BUDGET)
			return true;
		if (rx_frame(n, f) == RX_WAIT)
			return false;
		*resume |= q_drop_head(n);
		done++;
	}
	return false;
}

static void notify_queues(struct vnet *n)
{
	if (n->txq && virtq_should_notify(n->txq) && n->tx_cb.notify)
		n->tx_cb.notify(n->tx_cb.opaque);
	if (n->rxq && virtq_should_notify(n->rxq) && n->rx_cb.notify)
		n->rx_cb.notify(n->rx_cb.opaque);
}

/* One round over both queues; lock held. True: come back without waiting. */
static bool process_locked(struct vnet *n, bool *resume)
{
	bool more = process_tx(n);

	more |= process_rx(n, resume);
	notify_queues(n);
	return more;
}

void vnet_process(struct vnet *n)
{
	bool resume = false;

	pthread_mutex_lock(&n->lock);
	while (process_locked(n, &resume))
		;
	pthread_mutex_unlock(&n->lock);
	if (resume)
		netbe_rx_resume(n->be);
}

/* ---- worker ------------------------------------------------------------------------- */

static void drain_fd(int fd)
{
	uint64_t c;

	if (fd >= 0 && read(fd, &c, sizeof(c)) < 0 && errno != EAGAIN && errno != EINTR)
		log_ratelimited(LOG_WARN, "virtio-net: reading an eventfd: %s", strerror(errno));
}

static void *worker_main(void *arg)
{
	struct vnet *n = arg;
	bool more = false;

	for (;;) {
		struct pollfd p[3];
		bool resume = false;

		pthread_mutex_lock(&n->lock);
		if (n->stop) {
			pthread_mutex_unlock(&n->lock);
			break;
		}
		p[0] = (struct pollfd){.fd = n->wake_fd, .events = POLLIN};
		p[1] = (struct pollfd){.fd = n->rx_kick, .events = POLLIN};
		p[2] = (struct pollfd){.fd = n->tx_kick, .events = POLLIN};
		/* Kicks and frames that came before this poll are served first. */
		more = process_locked(n, &resume);
		pthread_mutex_unlock(&n->lock);
		if (resume)
			netbe_rx_resume(n->be);

		if (poll(p, 3, more ? 0 : -1) < 0) {
			if (errno == EINTR)
				continue;
			log_error("virtio-net: worker poll failed: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < 3; i++) {
			if (p[i].revents & POLLIN)
				drain_fd(p[i].fd);
			if (i && (p[i].revents & (POLLERR | POLLNVAL))) {
				log_ratelimited(LOG_ERROR, "virtio-net: queue notify fd failed");
				pthread_mutex_lock(&n->lock);
				if (i == 1)
					n->rx_kick = -1;
				else
					n->tx_kick = -1;
				pthread_mutex_unlock(&n->lock);
			}
		}
	}
	return NULL;
}

int vnet_start(struct vnet *n, unsigned int q, struct virtq *vq, int kick_fd,
	       const struct vnet_queue_cb *cb)
{
	sigset_t all, old;
	int r = 0;

	if (!vq || kick_fd < 0 || q >= VNET_NR_QUEUES)
		return -EINVAL;
	pthread_mutex_lock(&n->lock);
	if ((q == VNET_RX_QUEUE ? n->rxq : n->txq) != NULL) {
		pthread_mutex_unlock(&n->lock);
		return -EBUSY;
	}
	if (!n->rxq && !n->txq)
		n->broken = false;
	if (q == VNET_RX_QUEUE) {
		n->rxq = vq;
		n->rx_kick = kick_fd;
		n->rx_cb = cb ? *cb : (struct vnet_queue_cb){0};
	} else {
		n->txq = vq;
		n->tx_kick = kick_fd;
		n->tx_cb = cb ? *cb : (struct vnet_queue_cb){0};
	}
	if (!n->running) {
		n->stop = false;
		/* Signals belong to the main thread. */
		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, &old);
		r = -pthread_create(&n->thread, NULL, worker_main, n);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (r) {
			if (q == VNET_RX_QUEUE)
				n->rxq = NULL, n->rx_kick = -1;
			else
				n->txq = NULL, n->tx_kick = -1;
		} else {
			pthread_setname_np(n->thread, "vnet");
			n->running = true;
		}
	}
	pthread_mutex_unlock(&n->lock);
	if (!r && q == VNET_RX_QUEUE) {
		pthread_mutex_lock(&n->qlock);
		n->rx_open = true;
		pthread_mutex_unlock(&n->qlock);
	}
	/* The worker re-reads the kick fds and serves the new queue. */
	if (!r)
		wake(n);
	if (!r && q == VNET_RX_QUEUE)
		netbe_rx_resume(n->be);
	return r;
}

void vnet_stop(struct vnet *n)
{
	bool running;

	pthread_mutex_lock(&n->qlock);
	n->rx_open = false;
	pthread_mutex_unlock(&n->qlock);
	pthread_mutex_lock(&n->lock);
	running = n->running;
	n->stop = true;
	pthread_mutex_unlock(&n->lock);
	if (running) {
		wake(n);
		pthread_join(n->thread, NULL);
		drain_fd(n->wake_fd);
	}
	pthread_mutex_lock(&n->lock);
	n->running = false;
	n->stop = false;
	n->rxq = n->txq = NULL;
	n->rx_kick = n->tx_kick = -1;
	n->rx_cb = n->tx_cb = (struct vnet_queue_cb){0};
	n->broken = false;
	pthread_mutex_unlock(&n->lock);
	/*
	 * Frames for the old driver would be stale for the next one. A
	 * backend that waits for room stays waiting (can_rx says no while
	 * the queue is stopped) until the receive queue starts again.
	 */
	q_clear(n);
}

/* ---- create / destroy ------------------------------------------------------------------ */

struct vnet *vnet_create(struct netbe *be, const uint8_t mac[6])
{
	struct vnet *n;

	if (!be || !be->ops || !be->ops->send || !mac)
		return NULL;
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	if (pthread_mutex_init(&n->lock, NULL)) {
		free(n);
		return NULL;
	}
	if (pthread_mutex_init(&n->qlock, NULL)) {
		pthread_mutex_destroy(&n->lock);
		free(n);
		return NULL;
	}
	n->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (n->wake_fd < 0) {
		log_error("virtio-net: eventfd: %s", strerror(errno));
		pthread_mutex_destroy(&n->qlock);
		pthread_mutex_destroy(&n->lock);
		free(n);
		return NULL;
	}
	n->be = be;
	memcpy(n->mac, mac, 6);
	n->rx_kick = n->tx_kick = -1;
	n->offered = 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_RING_F_EVENT_IDX |
		     1ull << VIRTIO_RING_F_INDIRECT_DESC | 1ull << VIRTIO_NET_F_MAC |
		     1ull << VIRTIO_NET_F_STATUS | 1ull << VIRTIO_NET_F_MRG_RXBUF |
		     1ull << VIRTIO_NET_F_CSUM;
	if (netbe_has_offloads(be))
		n->offered |= be->ops->offloads & NETBE_OFFLOADS;
	netbe_connect(be, &(struct netbe_peer){.rx = peer_rx, .can_rx = peer_can_rx, .opaque = n});
	return n;
}

void vnet_destroy(struct vnet *n)
{
	if (!n)
		return;
	vnet_stop(n);
	close(n->wake_fd);
	pthread_mutex_destroy(&n->qlock);
	pthread_mutex_destroy(&n->lock);
	free(n);
}

/* ---- virtio-pci glue ---------------------------------------------------------------------- */

static uint64_t vnet_ops_features(void *dev)
{
	return vnet_features(dev);
}

static void vnet_ops_set_features(void *dev, uint64_t f)
{
	vnet_set_features(dev, f);
}

static unsigned int vnet_ops_config_size(void *dev)
{
	(void)dev;
	return vnet_config_size();
}

static void vnet_ops_config_read(void *dev, uint64_t off, void *data, unsigned int len)
{
	vnet_config_read(dev, off, data, len);
}

static void vnet_ops_config_write(void *dev, uint64_t off, const void *data, unsigned int len)
{
	vnet_config_write(dev, off, data, len);
}

static int vnet_ops_start(void *dev, unsigned int q, struct virtq *vq, int kick_fd,
			  void (*notify)(void *), void (*needs_reset)(void *), void *opaque)
{
	struct vnet_queue_cb cb = {.notify = notify, .needs_reset = needs_reset, .opaque = opaque};

	return vnet_start(dev, q, vq, kick_fd, &cb);
}

static void vnet_ops_stop(void *dev)
{
	vnet_stop(dev);
}

const struct vpci_dev_ops vnet_vpci_ops = {
	.device_id = VIRTIO_ID_NET,
	.pci_class = 0x020000, /* network controller, Ethernet */
	.nr_queues = VNET_NR_QUEUES,
	.queue_size_max = VNET_QUEUE_SIZE,
	.features = vnet_ops_features,
	.set_features = vnet_ops_set_features,
	.config_size = vnet_ops_config_size,
	.config_read = vnet_ops_config_read,
	.config_write = vnet_ops_config_write,
	.start = vnet_ops_start,
	.stop = vnet_ops_stop,
};

struct vpci *vnet_create_vpci(struct pci_host *h, unsigned int slot, struct vnet *n,
			      const struct gmem *gm, struct msi_ctl *msi, struct ioevent_ctl *ioev)
{
	if (!n)
		return NULL;
	return vpci_create(h, slot, &vnet_vpci_ops, n, gm, msi, ioev);
}
