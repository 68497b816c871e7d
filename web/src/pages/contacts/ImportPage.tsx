// Import wizard: upload a CSV/XLSX, map its columns, check the preview, then watch the import run.
import { Alert, Anchor, Button, Card, Group, Progress, Select, SimpleGrid, Stack, Stepper, Table, TagsInput, Text } from '@mantine/core';
import { Dropzone } from '@mantine/dropzone';
import { notifications } from '@mantine/notifications';
import { IconFileSpreadsheet } from '@tabler/icons-react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router-dom';

import { invalidateOps } from '../../api/invalidate';
import { type ImportOut, type MergePolicy, bulkImport, downloadImportErrors, startImport } from '../../client';
import { getImportOptions, listImportsOptions } from '../../client/@tanstack/react-query.gen';
import { PageHeader } from '../../components/PageHeader';
import { QueryState } from '../../components/QueryState';
import { saveBlob } from '../../lib/download';
import { errorMessage } from '../../lib/errors';
import { formatDateTime, formatNumber } from '../../lib/format';
import { type Mapping, mappingProblems, targetOptions, toApiMapping } from '../../lib/importMapping';

const FINISHED = ['completed', 'failed', 'cancelled'];

export function ImportPage() {
  const [upload, setUpload] = useState<ImportOut | null>(null);
  const [importId, setImportId] = useState<number | null>(null);
  const step = importId ? 2 : upload ? 1 : 0;
  return (
    <>
      <PageHeader
        title="Import contacts"
        description="Upload a CSV or Excel file, tell us what each column holds, and follow the import live."
        actions={
          <Button component={Link} to="/contacts" variant="default">
            Back to contacts
          </Button>
        }
      />
      <Stepper active={step} mb="lg" size="sm">
        <Stepper.Step label="Upload" />
        <Stepper.Step label="Map columns" />
        <Stepper.Step label="Import" />
      </Stepper>
      {step === 0 && <UploadStep onUploaded={setUpload} />}
      {step === 1 && upload && <MappingStep upload={upload} onStarted={setImportId} onRestart={() => setUpload(null)} />}
      {step === 2 && importId && (
        <ProgressStep
          importId={importId}
          onAnother={() => {
            setUpload(null);
            setImportId(null);
          }}
        />
      )}
      <RecentImports />
    </>
  );
}

function UploadStep({ onUploaded }: { onUploaded: (upload: ImportOut) => void }) {
  const upload = useMutation({
    mutationFn: async (file: File) => (await bulkImport({ body: { file, start: false }, throwOnError: true })).data,
    onSuccess: onUploaded,
  });
  return (
    <Card withBorder>
      <Dropzone
        onDrop={(files) => files[0] && upload.mutate(files[0])}
        loading={upload.isPending}
        multiple={false}
        maxSize={200 * 1024 * 1024}
        accept={['text/csv', 'text/plain', 'application/vnd.ms-excel', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet']}
        aria-label="Upload a contacts file"
      >
        <Group justify="center" mih={140} style={{ pointerEvents: 'none' }}>
          <IconFileSpreadsheet size={40} />
          <div>
            <Text size="lg">Drop a CSV or XLSX file here, or click to choose one</Text>
            <Text size="sm" c="dimmed">
              One row per contact, with a phone number column (international format or your default country).
            </Text>
          </div>
        </Group>
      </Dropzone>
      {upload.error && (
        <Alert color="red" mt="md" role="alert">
          {errorMessage(upload.error)}
        </Alert>
      )}
    </Card>
  );
}

function MappingStep({ upload, onStarted, onRestart }: { upload: ImportOut; onStarted: (id: number) => void; onRestart: () => void }) {
  const suggested = upload.suggested_mapping as Record<string, string | null>;
  const [mapping, setMapping] = useState<Mapping>(() => Object.fromEntries(upload.columns.map((c) => [c, suggested[c] ?? ''])));
  const [policy, setPolicy] = useState<MergePolicy>('merge_tags');
  const [tags, setTags] = useState<string[]>([]);
  const problems = mappingProblems(mapping);
  const start = useMutation({
    mutationFn: async () =>
      (
        await startImport({
          path: { import_id: upload.id },
          body: { mapping: toApiMapping(mapping), policy, default_tags: tags },
          throwOnError: true,
        })
      ).data,
    onSuccess: (result) => onStarted(result.id),
  });
  return (
    <Card withBorder>
      <Text mb="sm">
        <b>{upload.filename}</b> · {upload.columns.length} columns
        {upload.total_rows != null ? ` · ${formatNumber(upload.total_rows)} rows` : ''}
      </Text>
      <Table.ScrollContainer minWidth={600}>
        <Table withTableBorder aria-label="Column mapping and preview">
          <Table.Thead>
            <Table.Tr>
              {upload.columns.map((column) => (
                <Table.Th key={column} miw={170}>
                  <Select
                    label={column}
                    aria-label={`Field for column ${column}`}
                    size="xs"
                    allowDeselect={false}
                    data={targetOptions(column, suggested[column] ?? undefined)}
                    value={mapping[column] ?? ''}
                    onChange={(value) => setMapping((m) => ({ ...m, [column]: value ?? '' }))}
                  />
                </Table.Th>
              ))}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {upload.preview.slice(0, 5).map((row, i) => (
              <Table.Tr key={i}>
                {upload.columns.map((column, j) => (
                  <Table.Td key={column} c={mapping[column] ? undefined : 'dimmed'}>
                    {row[j] ?? ''}
                  </Table.Td>
                ))}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <SimpleGrid cols={{ base: 1, sm: 2 }} mt="md">
        <Select
          label="Existing phone numbers"
          allowDeselect={false}
          value={policy}
          onChange={(v) => setPolicy((v as MergePolicy) ?? 'merge_tags')}
          data={[
            { value: 'merge_tags', label: 'Keep the contact, add the new tags' },
            { value: 'update', label: 'Update the contact from the file' },
            { value: 'skip', label: 'Skip the row' },
          ]}
        />
        <TagsInput label="Tags added to every imported contact" value={tags} onChange={setTags} />
      </SimpleGrid>
      {problems.length > 0 && (
        <Alert color="yellow" mt="md" role="alert">
          {problems.join(' ')}
        </Alert>
      )}
      {start.error && (
        <Alert color="red" mt="md" role="alert">
          {errorMessage(start.error)}
        </Alert>
      )}
      <Group justify="flex-end" mt="md">
        <Button variant="default" onClick={onRestart}>
          Choose another file
        </Button>
        <Button disabled={problems.length > 0} loading={start.isPending} onClick={() => start.mutate()}>
          Start import
        </Button>
      </Group>
    </Card>
  );
}

function ProgressStep({ importId, onAnother }: { importId: number; onAnother: () => void }) {
  const queryClient = useQueryClient();
  const job = useQuery({
    ...getImportOptions({ path: { import_id: importId } }),
    refetchInterval: (query) => {
      const status = query.state.data?.status;
      if (status && FINISHED.includes(status)) {
        void invalidateOps(queryClient, 'listContacts', 'listImports');
        return false;
      }
      return 1000;
    },
  });
  async function downloadErrors() {
    try {
      const { data } = await downloadImportErrors({ path: { import_id: importId }, parseAs: 'blob', throwOnError: true });
      saveBlob(data as Blob, `import-${importId}-errors.csv`);
    } catch (err) {
      notifications.show({ color: 'red', title: 'Download failed', message: errorMessage(err) });
    }
  }
  const data = job.data;
  return (
    <Card withBorder>
      <QueryState isPending={job.isPending} error={job.error}>
        {data && (
          <Stack>
            <Group justify="space-between">
              <Text fw={500}>Import #{data.id}: {data.status}</Text>
              <Text size="sm">{Math.round(data.percent)}%</Text>
            </Group>
            <Progress value={data.percent} animated={!FINISHED.includes(data.status)} aria-label="Import progress" />
            <SimpleGrid cols={{ base: 2, sm: 5 }}>
              <Stat label="Processed" value={data.processed_rows} />
              <Stat label="Created" value={data.created_count} />
              <Stat label="Updated" value={data.updated_count} />
              <Stat label="Skipped" value={data.skipped_count} />
              <Stat label="Errors" value={data.error_count} />
            </SimpleGrid>
            {data.error && <Alert color="red">{data.error}</Alert>}
            {data.status === 'completed' && (
              <Alert color="teal" title="Import finished">
                {formatNumber(data.created_count)} contacts created, {formatNumber(data.updated_count)} updated.{' '}
                <Anchor component={Link} to="/contacts">
                  See the contacts
                </Anchor>
              </Alert>
            )}
            <Group>
              {data.error_count > 0 && (
                <Button variant="light" color="orange" onClick={downloadErrors}>
                  Download error report
                </Button>
              )}
              {FINISHED.includes(data.status) && (
                <Button variant="default" onClick={onAnother}>
                  Import another file
                </Button>
              )}
            </Group>
          </Stack>
        )}
      </QueryState>
    </Card>
  );
}

function Stat({ label, value }: { label: string; value: number }) {
  return (
    <div>
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <Text fw={600} aria-label={label}>
        {formatNumber(value)}
      </Text>
    </div>
  );
}

function RecentImports() {
  const imports = useQuery(listImportsOptions({ query: { limit: 10 } }));
  return (
    <Card withBorder mt="lg">
      <Text fw={600} mb="xs">
        Recent imports
      </Text>
      <QueryState isPending={imports.isPending} error={imports.error} isEmpty={imports.data?.items.length === 0} empty="No imports yet.">
        <Table.ScrollContainer minWidth={500}>
          <Table aria-label="Recent imports">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>File</Table.Th>
                <Table.Th>Status</Table.Th>
                <Table.Th>Created</Table.Th>
                <Table.Th>Errors</Table.Th>
                <Table.Th>When</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {imports.data?.items.map((i) => (
                <Table.Tr key={i.id}>
                  <Table.Td>{i.filename}</Table.Td>
                  <Table.Td>{i.status}</Table.Td>
                  <Table.Td>{formatNumber(i.created_count)}</Table.Td>
                  <Table.Td>{formatNumber(i.error_count)}</Table.Td>
                  <Table.Td>{formatDateTime(i.created_at)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      </QueryState>
    </Card>
  );
}
