// The message as one chosen contact will get it (variables filled, spintax resolved), rendered by the API.
import { Alert, Button, Card, Group, Paper, Select, Stack, Text, Title } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { IconEye } from '@tabler/icons-react';
import { keepPreviousData, useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';

import { listContactsOptions, previewMessageMutation } from '../../client/@tanstack/react-query.gen';
import { errorMessage } from '../../lib/errors';
import { apiProblem } from './problems';

interface Props {
  /** The saved draft; previews need one. */
  campaignId: number | null;
  /** The text being edited, previewed as it is (saved or not). */
  body: string;
  /** A template problem goes back to the message field. */
  onProblem?: (problem: string | null) => void;
}

export function PreviewPanel({ campaignId, body, onProblem }: Props) {
  const [search, setSearch] = useState('');
  const [q] = useDebouncedValue(search.trim(), 300);
  const [contactId, setContactId] = useState<string | null>(null);
  const [labels, setLabels] = useState<Record<string, string>>({});
  const contacts = useQuery({ ...listContactsOptions({ query: { q: q || undefined, limit: 20 } }), placeholderData: keepPreviousData });
  const preview = useMutation({
    ...previewMessageMutation(),
    onSuccess: () => onProblem?.(null),
    onError: (err) => onProblem?.(apiProblem(err)?.problem ?? null),
  });
  const options = (contacts.data?.items ?? []).map((c) => ({ value: String(c.id), label: `${c.name ?? '(no name)'} · ${c.phone}` }));
  const selectedLabel = contactId ? labels[contactId] : undefined;
  const data = selectedLabel && !options.some((o) => o.value === contactId) ? [{ value: contactId as string, label: selectedLabel }, ...options] : options;

  return (
    <Card withBorder>
      <Stack gap="sm">
        <Title order={5}>Preview for a contact</Title>
        {campaignId == null ? (
          <Text size="sm" c="dimmed">
            Save the draft to preview the message for a contact.
          </Text>
        ) : (
          <>
            <Group align="flex-end" wrap="wrap">
              <Select
                label="Preview contact"
                placeholder="Search by name or phone"
                searchable
                filter={({ options: all }) => all}
                searchValue={search}
                onSearchChange={setSearch}
                data={data}
                value={contactId}
                onChange={(value, option) => {
                  setContactId(value);
                  if (value && option) setLabels((l) => ({ ...l, [value]: option.label }));
                }}
                nothingFoundMessage={contacts.isFetching ? 'Searching…' : 'No contact found'}
                w={300}
              />
              <Button
                leftSection={<IconEye size={16} />}
                variant="light"
                disabled={!contactId}
                loading={preview.isPending}
                onClick={() =>
                  preview.mutate({
                    path: { campaign_id: campaignId },
                    body: { contact_id: Number(contactId), body },
                  })
                }
              >
                Preview
              </Button>
            </Group>
            {preview.data && (
              <Paper withBorder p="sm" bg="teal.0" aria-label="Message preview">
                <Text size="sm" style={{ whiteSpace: 'pre-wrap' }}>
                  {preview.data.text || '(empty message)'}
                </Text>
              </Paper>
            )}
            {preview.error && (
              <Alert color="red" role="alert">
                {errorMessage(preview.error)}
              </Alert>
            )}
          </>
        )}
      </Stack>
    </Card>
  );
}
