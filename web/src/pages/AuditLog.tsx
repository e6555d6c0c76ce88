import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { apiRequest } from '../lib/contract';
import { meQuery } from '../lib/queries';
import { atLeast, type Role } from '../lib/roles';
import { Table, THead, TBody, Tr, Th, Td } from '../components/ui/table';
import { Button } from '../components/ui/button';
import { Alert } from '../components/ui/alert';

export default function AuditLogPage() {
  const me = useQuery(meQuery());
  const admin = atLeast(me.data?.role as Role | undefined, 'admin');
  const [page, setPage] = useState(1);
  const log = useQuery({
    queryKey: ['audit', page],
    queryFn: () => apiRequest('get', '/api/audit-log/', { query: { page, page_size: 25 } }),
    enabled: admin,
  });
  if (me.data && !admin) {
    return (
      <div className="page">
        <h1 className="page-title">Audit log</h1>
        <Alert tone="info">The audit log is for the organization's owner and admins.</Alert>
      </div>
    );
  }
  return (
    <div className="page">
      <h1 className="page-title">Audit log</h1>
      <Table aria-label="Audit log">
        <THead>
          <Tr>
            <Th>When</Th>
            <Th>Who</Th>
            <Th>What</Th>
            <Th>Target</Th>
            <Th>Address</Th>
          </Tr>
        </THead>
        <TBody>
          {log.data?.results.map((e) => (
            <Tr key={e.id}>
              <Td>{new Date(e.at).toLocaleString()}</Td>
              <Td>{e.actor.label ?? e.actor.type}</Td>
              <Td>{e.action}</Td>
              <Td>{e.target.label ?? e.target.id ?? ''}</Td>
              <Td>{e.client_ip}</Td>
            </Tr>
          ))}
        </TBody>
      </Table>
      <div className="pager">
        <Button size="sm" variant="secondary" disabled={!log.data?.previous} onClick={() => setPage((p) => p - 1)}>
          Newer
        </Button>{' '}
        <Button size="sm" variant="secondary" disabled={!log.data?.next} onClick={() => setPage((p) => p + 1)}>
          Older
        </Button>
      </div>
    </div>
  );
}
