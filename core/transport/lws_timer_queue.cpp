#include "transport/lws_timer_queue.hpp"

#include <libwebsockets.h>

#include <cstring>

namespace daheim::transport {
namespace {

// queue_slot layout: the lws_sul, then a back-pointer to the Timer.
struct Slot {
  lws_sorted_usec_list_t sul;
  engineio::Timer* owner;
};
static_assert(sizeof(Slot) <= sizeof(engineio::Timer::queue_slot));

Slot* slot_of(engineio::Timer& timer) {
  return reinterpret_cast<Slot*>(timer.queue_slot);
}

void on_sul(lws_sorted_usec_list_t* sul) {
  auto* slot = reinterpret_cast<Slot*>(sul);
  slot->owner->fire_from_queue();
}

}  // namespace

void LwsTimerQueue::schedule(engineio::Timer& timer, engineio::Millis delay) {
  Slot* slot = slot_of(timer);
  slot->owner = &timer;
  lws_usec_t us = static_cast<lws_usec_t>(delay.count()) * LWS_US_PER_MS;
  lws_sul_schedule(context_, 0, &slot->sul, on_sul, us > 0 ? us : 1);
}

void LwsTimerQueue::cancel(engineio::Timer& timer) {
  lws_sul_cancel(&slot_of(timer)->sul);
}

}  // namespace daheim::transport
