/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <time.h>

#include "events.h"

void events_push(struct event_ring *r, const struct sess_event *e)
{
	struct sess_event *slot;

	if (!r->watchers)
		return;
	slot = &r->ev[r->next & (EVENT_RING - 1)];
	*slot = *e;
	slot->seq = r->next++;
	slot->time = (int64_t)time(NULL);
}

size_t events_read(const struct event_ring *r, uint64_t *from,
		   struct sess_event *out, size_t max, uint64_t *missed)
{
	size_t n = 0;

	*missed = 0;
	if (r->next > EVENT_RING && *from < r->next - EVENT_RING) {
		*missed = r->next - EVENT_RING - *from;
		*from = r->next - EVENT_RING;
	}
	while (*from < r->next && n < max)
		out[n++] = r->ev[(*from)++ & (EVENT_RING - 1)];
	return n;
}

const char *event_kind_name(uint8_t kind)
{
	static const char *const names[EV_KIND_MAX] = {
		[EV_CREATED] = "created", [EV_REFUSED] = "refused",
		[EV_SPI] = "spi-learned", [EV_IKE] = "ike-learned",
		[EV_SA] = "new-sa", [EV_EXPIRED] = "expired",
		[EV_FLUSHED] = "flushed",
	};

	return kind < EV_KIND_MAX ? names[kind] : "?";
}
