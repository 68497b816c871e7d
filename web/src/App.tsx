// Routes. Each area lives in src/pages/<area>/ (a later campaigns area adds its folder and a route here).
import { Alert, Button, Center, Group, Loader } from '@mantine/core';
import { type ReactNode, lazy } from 'react';
import { Navigate, Route, Routes, useLocation } from 'react-router-dom';

import { useAuth } from './auth/AuthProvider';
import { LoginPage } from './auth/LoginPage';
import { errorMessage } from './lib/errors';
import { Layout } from './layout/Layout';
import { NotFoundPage } from './pages/NotFoundPage';

// Each area is its own chunk, loaded when first opened.
const HomePage = lazy(() => import('./pages/home/HomePage').then((m) => ({ default: m.HomePage })));
const ContactsPage = lazy(() => import('./pages/contacts/ContactsPage').then((m) => ({ default: m.ContactsPage })));
const ContactDetailPage = lazy(() => import('./pages/contacts/ContactDetailPage').then((m) => ({ default: m.ContactDetailPage })));
const ImportPage = lazy(() => import('./pages/contacts/ImportPage').then((m) => ({ default: m.ImportPage })));
const SegmentsPage = lazy(() => import('./pages/contacts/SegmentsPage').then((m) => ({ default: m.SegmentsPage })));
const InboxPage = lazy(() => import('./pages/inbox/InboxPage').then((m) => ({ default: m.InboxPage })));
const LeadsPage = lazy(() => import('./pages/leads/LeadsPage').then((m) => ({ default: m.LeadsPage })));
const NumbersPage = lazy(() => import('./pages/numbers/NumbersPage').then((m) => ({ default: m.NumbersPage })));
const SettingsPage = lazy(() => import('./pages/settings/SettingsPage').then((m) => ({ default: m.SettingsPage })));
const TenantsPage = lazy(() => import('./pages/tenants/TenantsPage').then((m) => ({ default: m.TenantsPage })));
const CampaignsPage = lazy(() => import('./pages/campaigns/CampaignsPage').then((m) => ({ default: m.CampaignsPage })));
const CampaignEditorPage = lazy(() => import('./pages/campaigns/CampaignEditorPage').then((m) => ({ default: m.CampaignEditorPage })));
const CampaignDetailPage = lazy(() => import('./pages/campaigns/CampaignDetailPage').then((m) => ({ default: m.CampaignDetailPage })));

function RequireAuth({ children }: { children: ReactNode }) {
  const { session, me, meLoading, meError, logout } = useAuth();
  const location = useLocation();
  if (!session) return <Navigate to="/login" replace state={{ from: location.pathname + location.search }} />;
  if (meError && !me) {
    return (
      <Center h="100vh" p="md">
        <Alert color="red" title="Could not load your account" role="alert" maw={420}>
          {errorMessage(meError)}
          <Group mt="sm">
            <Button size="xs" onClick={() => window.location.reload()}>
              Try again
            </Button>
            <Button size="xs" variant="default" onClick={() => void logout()}>
              Sign in again
            </Button>
          </Group>
        </Alert>
      </Center>
    );
  }
  if (meLoading || !me) {
    return (
      <Center h="100vh">
        <Loader aria-label="Loading your account" />
      </Center>
    );
  }
  return <>{children}</>;
}

export function App() {
  return (
    <Routes>
      <Route path="/login" element={<LoginPage />} />
      <Route
        element={
          <RequireAuth>
            <Layout />
          </RequireAuth>
        }
      >
        <Route index element={<HomePage />} />
        <Route path="contacts" element={<ContactsPage />} />
        <Route path="contacts/import" element={<ImportPage />} />
        <Route path="contacts/:contactId" element={<ContactDetailPage />} />
        <Route path="segments" element={<SegmentsPage />} />
        <Route path="inbox" element={<InboxPage />} />
        <Route path="inbox/:conversationId" element={<InboxPage />} />
        <Route path="campaigns" element={<CampaignsPage />} />
        <Route path="campaigns/new" element={<CampaignEditorPage />} />
        <Route path="campaigns/:campaignId" element={<CampaignDetailPage />} />
        <Route path="campaigns/:campaignId/edit" element={<CampaignEditorPage />} />
        <Route path="leads" element={<LeadsPage />} />
        <Route path="numbers" element={<NumbersPage />} />
        <Route path="settings" element={<SettingsPage />} />
        <Route path="settings/:tab" element={<SettingsPage />} />
        <Route path="tenants" element={<TenantsPage />} />
        <Route path="*" element={<NotFoundPage />} />
      </Route>
    </Routes>
  );
}
