// Tenant profile: name, default country, time zone and the keywords that opt a contact out.
import { Alert, Button, Card, Group, SimpleGrid, Stack, Switch, TagsInput, TextInput, Textarea } from '@mantine/core';
import { useForm } from '@mantine/form';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { zodResolver } from 'mantine-form-zod-resolver';
import { z } from 'zod';

import { invalidateOps } from '../../api/invalidate';
import { useTenantId } from '../../auth/AuthProvider';
import type { TenantOut } from '../../client';
import { getTenantOptions, updateTenantMutation } from '../../client/@tanstack/react-query.gen';
import { QueryState } from '../../components/QueryState';
import { errorMessage } from '../../lib/errors';

const schema = z.object({
  name: z.string().trim().min(1, 'Enter the company name').max(200),
  default_country: z.string().trim().regex(/^[A-Za-z]{2}$/, 'Two-letter country code, e.g. US'),
  timezone: z.string().trim().min(1, 'Enter a time zone, e.g. Europe/Lisbon'),
  stop_keywords: z.array(z.string()),
  stop_keywords_replace: z.boolean(),
  opt_out_confirmation: z.string().max(1000),
});

export function ProfileTab() {
  const tenantId = useTenantId();
  const tenant = useQuery(getTenantOptions({ path: { tenant_id: tenantId } }));
  return (
    <Card withBorder maw={720}>
      <QueryState isPending={tenant.isPending} error={tenant.error}>
        {tenant.data && <ProfileForm tenant={tenant.data} />}
      </QueryState>
    </Card>
  );
}

function ProfileForm({ tenant }: { tenant: TenantOut }) {
  const settings = tenant.settings as { default_country?: string; timezone?: string; stop_keywords?: string[]; stop_keywords_replace?: boolean; opt_out_confirmation?: string | null };
  const form = useForm({
    initialValues: {
      name: tenant.name,
      default_country: settings.default_country ?? 'US',
      timezone: settings.timezone ?? 'UTC',
      stop_keywords: settings.stop_keywords ?? [],
      stop_keywords_replace: settings.stop_keywords_replace ?? false,
      opt_out_confirmation: settings.opt_out_confirmation ?? '',
    },
    validate: zodResolver(schema),
  });
  const queryClient = useQueryClient();
  const save = useMutation({
    ...updateTenantMutation(),
    onSuccess: async () => {
      await invalidateOps(queryClient, 'getTenant', 'readMe');
      notifications.show({ color: 'teal', message: 'Profile saved' });
    },
  });
  return (
    <form
      onSubmit={form.onSubmit((v) =>
        save.mutate({
          path: { tenant_id: tenant.id },
          body: {
            name: v.name.trim(),
            settings: {
              default_country: v.default_country.trim().toUpperCase(),
              timezone: v.timezone.trim(),
              stop_keywords: v.stop_keywords,
              stop_keywords_replace: v.stop_keywords_replace,
              opt_out_confirmation: v.opt_out_confirmation.trim() || null,
            },
          },
        }),
      )}
    >
      <Stack>
        <TextInput label="Company name" {...form.getInputProps('name')} />
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <TextInput label="Default country" description="For phone numbers written without a country code" {...form.getInputProps('default_country')} />
          <TextInput label="Time zone" description="IANA name, e.g. America/Sao_Paulo" {...form.getInputProps('timezone')} />
        </SimpleGrid>
        <TagsInput label="Extra stop keywords" description="Replies with these words opt the contact out" {...form.getInputProps('stop_keywords')} />
        <Switch label="Use only these keywords (replace the built-in list)" {...form.getInputProps('stop_keywords_replace', { type: 'checkbox' })} />
        <Textarea label="Opt-out confirmation message" autosize minRows={2} {...form.getInputProps('opt_out_confirmation')} />
        {save.error && (
          <Alert color="red" role="alert">
            {errorMessage(save.error)}
          </Alert>
        )}
        <Group justify="flex-end">
          <Button type="submit" loading={save.isPending}>
            Save profile
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
