// A message body with one-click variables, the spintax variation count and the WhatsApp length limit.
import { Button, Group, Menu, Stack, Text, Textarea } from '@mantine/core';
import { IconBraces, IconChevronDown } from '@tabler/icons-react';
import { useRef } from 'react';

import { CONTACT_VARIABLES, insertAt, spinVariations, variableSnippet } from './message';

const MAX_LENGTH = 4096;

interface Props {
  label: string;
  value: string;
  onChange: (value: string) => void;
  error?: string | null;
  readOnly?: boolean;
  /** Campaign-wide variables (besides the contact's). */
  extraVariables?: string[];
}

export function MessageEditor({ label, value, onChange, error, readOnly, extraVariables = [] }: Props) {
  const ref = useRef<HTMLTextAreaElement>(null);
  const variations = spinVariations(value);

  function insert(name: string) {
    const area = ref.current;
    const start = area?.selectionStart ?? value.length;
    const end = area?.selectionEnd ?? value.length;
    const next = insertAt(value, start, end, variableSnippet(name));
    onChange(next.text);
    requestAnimationFrame(() => {
      area?.focus();
      area?.setSelectionRange(next.cursor, next.cursor);
    });
  }

  return (
    <Stack gap={4}>
      <Textarea
        ref={ref}
        label={label}
        placeholder="Hi {{ first_name | default('there') }}, {our sale starts today|the sale is on}!"
        autosize
        minRows={4}
        maxRows={14}
        maxLength={MAX_LENGTH}
        value={value}
        onChange={(e) => onChange(e.currentTarget.value)}
        error={error}
        readOnly={readOnly}
      />
      <Group justify="space-between" wrap="wrap" gap="xs">
        {!readOnly ? (
          <Menu position="bottom-start">
            <Menu.Target>
              <Button size="compact-xs" variant="light" leftSection={<IconBraces size={14} />} rightSection={<IconChevronDown size={12} />}>
                Insert variable
              </Button>
            </Menu.Target>
            <Menu.Dropdown>
              {[...CONTACT_VARIABLES, ...extraVariables].map((name) => (
                <Menu.Item key={name} onClick={() => insert(name)}>
                  {name}
                </Menu.Item>
              ))}
            </Menu.Dropdown>
          </Menu>
        ) : (
          <span />
        )}
        <Text size="xs" c="dimmed">
          {variations > 1 ? `${variations} spintax variations · ` : 'Spintax: {Hi|Hello} picks one per contact · '}
          {value.length}/{MAX_LENGTH}
        </Text>
      </Group>
    </Stack>
  );
}
