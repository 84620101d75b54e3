/**
 * Why an identity holds a permission, drawn as a graph (React Flow): identity → the units it
 * inherits through → delegations → the assignment or observed account → the roles it
 * includes → the permission. Every chain of GET /api/v1/access/explain is one path; shared
 * steps are one node. Nodes are laid out in columns by their step and focusable.
 */
import { useMemo } from 'react';
import { ReactFlow, Background, Controls, MarkerType, type Edge, type Node } from '@xyflow/react';
import '@xyflow/react/dist/style.css';

export interface ExplainChain {
  via:
    | { kind: 'assignment'; assignmentId: string; source: string; assignee: { type: string; id: string }; resource: { type: string; id: string }; context: { type: string; id: string | null }; delegatedFromId: string | null; ruleId: string | null }
    | { kind: 'account'; accountId: string; accountName: string; context: { type: string; id: string | null }; observedAt: string; importId: string | null };
  unitPath: string[];
  rolePath: string[];
  delegatedFrom: { assignmentId: string; delegatorId: string }[];
}

type Kind = 'identity' | 'unit' | 'delegation' | 'assignment' | 'account' | 'role' | 'permission';
interface Step {
  key: string;
  kind: Kind;
  label: string;
  detail?: string;
}

const KIND_LABEL: Record<Kind, string> = {
  identity: 'Identity',
  unit: 'Organization unit',
  delegation: 'Delegated by',
  assignment: 'Assignment',
  account: 'Account',
  role: 'Role',
  permission: 'Permission',
};

export function chainSteps(chain: ExplainChain, names: (kind: 'unit' | 'role' | 'identity', id: string) => string, identity: { id: string; name: string }, permission: { id: string; name: string }): Step[] {
  const steps: Step[] = [{ key: `identity:${identity.id}`, kind: 'identity', label: identity.name }];
  for (const unit of chain.unitPath) steps.push({ key: `unit:${unit}`, kind: 'unit', label: names('unit', unit) });
  for (const d of chain.delegatedFrom) steps.push({ key: `delegation:${d.assignmentId}`, kind: 'delegation', label: names('identity', d.delegatorId) });
  if (chain.via.kind === 'assignment') {
    const v = chain.via;
    const context = v.context.type === 'all' ? 'everywhere' : `${v.context.type} ${v.context.id ?? ''}`.trim();
    steps.push({ key: `assignment:${v.assignmentId}`, kind: 'assignment', label: `${v.source}${v.ruleId ? ' (rule)' : ''}`, detail: context });
  } else {
    steps.push({ key: `account:${chain.via.accountId}`, kind: 'account', label: chain.via.accountName, detail: `observed ${new Date(chain.via.observedAt).toLocaleDateString()}` });
  }
  for (const role of chain.rolePath) steps.push({ key: `role:${role}`, kind: 'role', label: names('role', role) });
  steps.push({ key: `permission:${permission.id}`, kind: 'permission', label: permission.name });
  return steps;
}

export function ExplainGraph({ chains, names, identity, permission }: { chains: ExplainChain[]; names: (kind: 'unit' | 'role' | 'identity', id: string) => string; identity: { id: string; name: string }; permission: { id: string; name: string } }) {
  const { nodes, edges, height } = useMemo(() => {
    const paths = chains.map((c) => chainSteps(c, names, identity, permission));
    const depth = Math.max(...paths.map((p) => p.length));
    const column = new Map<string, number>();
    const rowsInColumn = new Map<number, number>();
    const nodeList: Node[] = [];
    const edgeList = new Map<string, Edge>();
    paths.forEach((path) => {
      path.forEach((step, i) => {
        // The permission sits in the last column; every other step in its place along the path.
        const col = step.kind === 'permission' ? depth - 1 : i;
        if (!column.has(step.key)) {
          column.set(step.key, col);
          const row = rowsInColumn.get(col) ?? 0;
          rowsInColumn.set(col, row + 1);
          nodeList.push({
            id: step.key,
            position: { x: col * 210, y: row * 96 },
            data: {
              label: (
                <div className="gnode-inner">
                  <span className="gnode-kind">{KIND_LABEL[step.kind]}</span>
                  <span className="gnode-label">{step.label}</span>
                  {step.detail ? <span className="gnode-detail">{step.detail}</span> : null}
                </div>
              ),
            },
            className: `gnode gnode-${step.kind}`,
            draggable: false,
            connectable: false,
            ariaLabel: `${KIND_LABEL[step.kind]}: ${step.label}${step.detail ? `, ${step.detail}` : ''}`,
            sourcePosition: 'right' as Node['sourcePosition'],
            targetPosition: 'left' as Node['targetPosition'],
          });
        }
        const next = path[i + 1];
        if (next) {
          const id = `${step.key}->${next.key}`;
          edgeList.set(id, { id, source: step.key, target: next.key, markerEnd: { type: MarkerType.ArrowClosed } });
        }
      });
    });
    const maxRows = Math.max(1, ...rowsInColumn.values());
    return { nodes: nodeList, edges: [...edgeList.values()], height: Math.min(480, 80 + maxRows * 96) };
  }, [chains, names, identity, permission]);

  return (
    <div className="explain-graph" style={{ height }} data-testid="explain-graph">
      <ReactFlow nodes={nodes} edges={edges} fitView fitViewOptions={{ padding: 0.15 }} nodesDraggable={false} nodesConnectable={false} elementsSelectable minZoom={0.3} attributionPosition="top-right">
        <Background gap={24} />
        <Controls showInteractive={false} position="bottom-right" />
      </ReactFlow>
    </div>
  );
}

export default ExplainGraph;
