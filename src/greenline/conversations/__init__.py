"""Conversations and messages: the shared inbox of a tenant.

Decisions (also stated in the endpoint descriptions):
- One open conversation per contact: POST /conversations answers 409 while the contact has an open or
  pending one, naming its id in `details[0].conversation_id` (null when the caller may not see it).
- `last_message_at` is the last activity: creation time until the first message, so lists keyset on it.
- The default list leaves archived conversations out; `status=archived` lists them.
- Reading never changes state; POST /conversations/{id}/read resets the unread count.
- Outbound messages are stored `queued`; the row is the queue entry for the channel layer's dispatcher.
- Status and assignment changes are logged under the reserved metadata key `_events` (newest 200 kept);
  callers cannot set metadata keys starting with `_`.
- Sales users reach only conversations assigned to them (others answer 404) and assign only to themselves.
"""
