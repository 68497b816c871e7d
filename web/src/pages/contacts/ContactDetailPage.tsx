// One contact: profile, tags, consent (opt-in/out with its history), conversations, leads and campaign history.
import { Anchor, Badge, Button, Card, Grid, Group, Stack, TagsInput, Text, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useParams } from 'react-router-dom';

import { invalidateOps } from '../../api/invalidate';
import { useMe } from '../../auth/AuthProvider';
import {
  addTagsMutation,
  getConsentHistoryOptions,
  getContactOptions,
  listContactCampaignsOptions,
  listConversationsOptions,
  optInContactMutation,
  optOutContactMutation,
  removeTagMutation,
  searchLeadsOptions,
} from '../../client/@tanstack/react-query.gen';
import type { CampaignMessageOut } from '../../client/types.gen';
import { PageHeader } from '../../components/PageHeader';
import { EmptyState, QueryState } from '../../components/QueryState';
import { errorMessage } from '../../lib/errors';
import { formatDateTime } from '../../lib/format';
import { can } from '../../lib/nav';

const ENROLMENT_COLORS: Record<string, string> = { active: 'blue', completed: 'teal', exited: 'gray' };
const MESSAGE_COLORS: Record<string, string> = { delivered: 'teal', read: 'green', failed: 'red', skipped: 'gray' };

function messageWhen(m: CampaignMessageOut): string {
  const at = m.failed_at ?? m.read_at ?? m.delivered_at ?? m.sent_at ?? m.created_at;
  return formatDateTime(at);
}

/** One page of the contact's enrolments; the last page offers the next one, so no list loads whole. */
function CampaignHistoryPage({ contactId, cursor, isLast, onMore }: { contactId: number; cursor: string | null; isLast: boolean; onMore: (next: string) => void }) {
  const page = useQuery(listContactCampaignsOptions({ path: { contact_id: contactId }, query: { limit: 10, cursor } }));
  const items = page.data?.items ?? [];
  const next = page.data?.next_cursor;
  return (
    <QueryState
      isPending={page.isPending}
      error={page.error}
      isEmpty={cursor === null && items.length === 0}
      empty="This contact has not been in any campaign yet. Add them to a campaign's audience to start one."
    >
      <Stack gap="sm">
        {items.map((item) => (
          <div key={item.enrollment_id} role="group" aria-label={`Campaign ${item.name}`}>
            <Group justify="space-between" wrap="nowrap">
              <Anchor component={Link} to={`/campaigns/${item.campaign_id}`} size="sm" fw={500}>
                {item.name}
              </Anchor>
              <Group gap={4} wrap="nowrap">
                <Badge size="sm" variant="outline">
                  {item.kind}
                </Badge>
                <Badge size="sm" color={ENROLMENT_COLORS[item.enrollment_status] ?? 'gray'}>
                  {item.enrollment_status}
                </Badge>
              </Group>
            </Group>
            <Text size="xs" c="dimmed">
              Campaign {item.status} · enrolled {formatDateTime(item.enrolled_at)} · step {item.current_step}
              {item.next_step_at ? ` · next step ${formatDateTime(item.next_step_at)}` : ''}
              {item.exit_reason ? ` · left: ${item.exit_reason}` : ''}
            </Text>
            {item.messages.map((m) => (
              <Group key={m.id} gap="xs" ml="sm" wrap="nowrap">
                <Text size="xs">Step {m.step_position ?? '?'}</Text>
                <Badge size="xs" variant="light" color={MESSAGE_COLORS[m.status] ?? 'blue'}>
                  {m.status}
                </Badge>
                <Text size="xs" c="dimmed">
                  {messageWhen(m)}
                  {m.error_code ? ` · error ${m.error_code}` : ''}
                </Text>
              </Group>
            ))}
          </div>
        ))}
        {isLast && next && (
          <Button size="xs" variant="subtle" onClick={() => onMore(next)}>
            Show older campaigns
          </Button>
        )}
      </Stack>
    </QueryState>
  );
}

function CampaignHistory({ contactId }: { contactId: number }) {
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  return (
    <Card withBorder>
      <Title order={4} mb="xs">
        Campaigns
      </Title>
      <Stack gap="sm">
        {cursors.map((cursor, index) => (
          <CampaignHistoryPage
            key={cursor ?? 'first'}
            contactId={contactId}
            cursor={cursor}
            isLast={index === cursors.length - 1}
            onMore={(next) => setCursors((all) => [...all, next])}
          />
        ))}
      </Stack>
    </Card>
  );
}

function Field({ label, value }: { label: string; value: string | null | undefined }) {
  return (
    <div>
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <Text size="sm">{value || '—'}</Text>
    </div>
  );
}

export function ContactDetailPage() {
  const me = useMe();
  const contactId = Number(useParams().contactId);
  const queryClient = useQueryClient();
  const contact = useQuery(getContactOptions({ path: { contact_id: contactId } }));
  const phone = contact.data?.phone;
  const conversations = useQuery({
    ...listConversationsOptions({ query: { q: phone, limit: 20 } }),
    enabled: !!phone && can(me, 'conversations:read'),
  });
  const leads = useQuery({ ...searchLeadsOptions({ query: { q: phone ?? '', limit: 20 } }), enabled: !!phone && can(me, 'leads:read') });
  const consent = useQuery(getConsentHistoryOptions({ path: { contact_id: contactId }, query: { limit: 20 } }));

  const refresh = () => invalidateOps(queryClient, 'getContact', 'listContacts', 'getConsentHistory');
  const onError = (err: unknown) => notifications.show({ color: 'red', title: 'Not saved', message: errorMessage(err) });
  const addTags = useMutation({ ...addTagsMutation(), onSuccess: refresh, onError });
  const removeTag = useMutation({ ...removeTagMutation(), onSuccess: refresh, onError });
  const optOut = useMutation({ ...optOutContactMutation(), onSuccess: refresh, onError });
  const optIn = useMutation({ ...optInContactMutation(), onSuccess: refresh, onError });
  const writable = can(me, 'contacts:write');

  return (
    <QueryState isPending={contact.isPending} error={contact.error}>
      {contact.data && (
        <>
          <PageHeader
            title={contact.data.name ?? contact.data.phone}
            description={contact.data.phone}
            actions={
              <Button component={Link} to="/contacts" variant="default">
                All contacts
              </Button>
            }
          />
          <Grid>
            <Grid.Col span={{ base: 12, md: 5 }}>
              <Card withBorder>
                <Stack>
                  <Group justify="space-between">
                    <Title order={4}>Profile</Title>
                    <Badge color={contact.data.opted_out ? 'red' : 'teal'}>{contact.data.opted_out ? 'Opted out' : 'Subscribed'}</Badge>
                  </Group>
                  <Group grow>
                    <Field label="Email" value={contact.data.email} />
                    <Field label="Status" value={contact.data.status} />
                  </Group>
                  <Group grow>
                    <Field label="Country" value={contact.data.country} />
                    <Field label="Language" value={contact.data.language} />
                  </Group>
                  <Group grow>
                    <Field label="Source" value={contact.data.source} />
                    <Field label="Last contacted" value={formatDateTime(contact.data.last_contacted_at)} />
                  </Group>
                  <TagsInput
                    label="Tags"
                    value={contact.data.tags}
                    disabled={!writable}
                    onChange={(next) => {
                      const current = contact.data.tags;
                      const added = next.filter((t) => !current.includes(t));
                      const removed = current.filter((t) => !next.includes(t));
                      if (added.length) addTags.mutate({ path: { contact_id: contactId }, body: { tags: added } });
                      removed.forEach((tag) => removeTag.mutate({ path: { contact_id: contactId, tag } }));
                    }}
                  />
                  {writable &&
                    (contact.data.opted_out ? (
                      <Button variant="light" loading={optIn.isPending} onClick={() => optIn.mutate({ path: { contact_id: contactId }, body: { source: 'dashboard', note: null } })}>
                        Record opt-in
                      </Button>
                    ) : (
                      <Button color="red" variant="light" loading={optOut.isPending} onClick={() => optOut.mutate({ path: { contact_id: contactId }, body: { reason: 'Opted out via dashboard' } })}>
                        Opt out
                      </Button>
                    ))}
                </Stack>
              </Card>
            </Grid.Col>
            <Grid.Col span={{ base: 12, md: 7 }}>
              <Stack>
                {can(me, 'conversations:read') && (
                  <Card withBorder>
                    <Title order={4} mb="xs">
                      Conversations
                    </Title>
                    <QueryState isPending={conversations.isPending} error={conversations.error}>
                      {(() => {
                        const mine = (conversations.data?.items ?? []).filter((c) => c.contact_id === contactId);
                        return mine.length === 0 ? (
                          <EmptyState>No conversation with this contact yet.</EmptyState>
                        ) : (
                          mine.map((c) => (
                            <Group key={c.id} justify="space-between">
                              <Anchor component={Link} to={`/inbox/${c.id}`} size="sm">
                                {c.last_message_preview ?? 'Conversation'}
                              </Anchor>
                              <Badge size="sm" variant="light">
                                {c.status}
                              </Badge>
                            </Group>
                          ))
                        );
                      })()}
                    </QueryState>
                  </Card>
                )}
                {can(me, 'leads:read') && (
                  <Card withBorder>
                    <Title order={4} mb="xs">
                      Leads
                    </Title>
                    <QueryState isPending={leads.isPending} error={leads.error}>
                      {(() => {
                        const mine = (leads.data?.items ?? []).filter((l) => l.contact_id === contactId);
                        return mine.length === 0 ? (
                          <EmptyState>No lead for this contact.</EmptyState>
                        ) : (
                          mine.map((l) => (
                            <Group key={l.id} justify="space-between">
                              <Text size="sm">{l.title ?? `Lead #${l.id}`}</Text>
                              <Group gap={4}>
                                <Badge size="sm">{l.status}</Badge>
                                <Badge size="sm" variant="light">
                                  score {l.score}
                                </Badge>
                              </Group>
                            </Group>
                          ))
                        );
                      })()}
                    </QueryState>
                  </Card>
                )}
                {can(me, 'campaigns:read') && <CampaignHistory contactId={contactId} />}
                <Card withBorder>
                  <Title order={4} mb="xs">
                    Consent history
                  </Title>
                  <QueryState isPending={consent.isPending} error={consent.error} isEmpty={consent.data?.items.length === 0} empty="No consent events recorded.">
                    {consent.data?.items.map((e) => (
                      <Group key={e.id} justify="space-between">
                        <Text size="sm">
                          {e.kind} · {e.source}
                          {e.reason ? ` · ${e.reason}` : ''}
                        </Text>
                        <Text size="xs" c="dimmed">
                          {formatDateTime(e.created_at)}
                        </Text>
                      </Group>
                    ))}
                  </QueryState>
                </Card>
              </Stack>
            </Grid.Col>
          </Grid>
        </>
      )}
    </QueryState>
  );
}
