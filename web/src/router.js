import { createRouter, createWebHistory } from 'vue-router'
import { session, restoreSession, homeFor } from './session.js'
import LoginView from './views/LoginView.vue'
import MemberHome from './views/MemberHome.vue'
import AgentHome from './views/AgentHome.vue'
import AgentRemit from './views/AgentRemit.vue'
import AgentHistory from './views/AgentHistory.vue'
import OperatorHome from './views/OperatorHome.vue'
import OperatorEmployer from './views/OperatorEmployer.vue'
import OperatorMember from './views/OperatorMember.vue'
import VerifyView from './views/VerifyView.vue'
import ApprovalList from './views/ApprovalList.vue'
import ApprovalDetail from './views/ApprovalDetail.vue'
import PolicyNew from './views/PolicyNew.vue'
import AdminHome from './views/AdminHome.vue'
import AdminOperatorNew from './views/AdminOperatorNew.vue'

const routes = [
  { path: '/', redirect: () => homeFor(session.user) },
  { path: '/login', name: 'login', component: LoginView, meta: { public: true, title: 'login.title' } },
  // Checking a receipt's verification code needs no login (whoever holds the paper may check it).
  { path: '/verify', name: 'verify', component: VerifyView, meta: { public: true, title: 'verify.title' } },
  { path: '/member', name: 'member', component: MemberHome, meta: { role: 'member', title: 'member.title' } },
  { path: '/agent', name: 'agent', component: AgentHome, meta: { role: 'agent', title: 'nav.agentHome' } },
  { path: '/agent/remit', name: 'agent-remit', component: AgentRemit, meta: { role: 'agent', title: 'nav.remit' } },
  { path: '/agent/remittances', name: 'agent-history', component: AgentHistory, meta: { role: 'agent', title: 'nav.history' } },
  // Maker-checker (复核): agents see their employer's requests, operators every request.
  { path: '/agent/approvals', name: 'agent-approvals', component: ApprovalList, meta: { role: 'agent', title: 'nav.mine' } },
  {
    path: '/agent/approvals/:id(\\d+)',
    name: 'agent-approval',
    component: ApprovalDetail,
    props: true,
    meta: { role: 'agent', title: 'nav.mine' },
  },
  { path: '/operator', name: 'operator', component: OperatorHome, meta: { role: 'operator', title: 'nav.employers' } },
  {
    path: '/operator/employers/:dwzh',
    name: 'operator-employer',
    component: OperatorEmployer,
    props: true,
    meta: { role: 'operator', title: 'nav.employers' },
  },
  { path: '/operator/members', name: 'operator-member', component: OperatorMember, meta: { role: 'operator', title: 'nav.lookup' } },
  { path: '/operator/approvals', name: 'operator-approvals', component: ApprovalList, meta: { role: 'operator', title: 'nav.approvals' } },
  {
    path: '/operator/approvals/:id(\\d+)',
    name: 'operator-approval',
    component: ApprovalDetail,
    props: true,
    meta: { role: 'operator', title: 'nav.approvals' },
  },
  { path: '/operator/policies/new', name: 'operator-policy', component: PolicyNew, meta: { role: 'operator', title: 'policy.newTitle' } },
  // Administrators manage logins only (no business page): operators, and disabling any login.
  { path: '/admin', name: 'admin', component: AdminHome, meta: { role: 'admin', title: 'nav.operators' } },
  { path: '/admin/operators/new', name: 'admin-operator-new', component: AdminOperatorNew, meta: { role: 'admin', title: 'nav.newOperator' } },
  { path: '/:rest(.*)*', redirect: '/' },
]

export const router = createRouter({
  history: createWebHistory('/'),
  routes,
  scrollBehavior: () => ({ top: 0 }),
})

router.beforeEach(async (to) => {
  const user = await restoreSession()
  if (to.meta.public) {
    if (user && to.name === 'login') return homeFor(user)
    return true
  }
  if (to.meta.role) {
    if (!user) return { name: 'login', query: to.fullPath !== '/' ? { next: to.fullPath } : {} }
    if (user.role !== to.meta.role) return homeFor(user)
  }
  return true
})
