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

const routes = [
  { path: '/', redirect: () => homeFor(session.user) },
  { path: '/login', name: 'login', component: LoginView, meta: { public: true, title: 'login.title' } },
  { path: '/member', name: 'member', component: MemberHome, meta: { role: 'member', title: 'member.title' } },
  { path: '/agent', name: 'agent', component: AgentHome, meta: { role: 'agent', title: 'nav.agentHome' } },
  { path: '/agent/remit', name: 'agent-remit', component: AgentRemit, meta: { role: 'agent', title: 'nav.remit' } },
  { path: '/agent/remittances', name: 'agent-history', component: AgentHistory, meta: { role: 'agent', title: 'nav.history' } },
  { path: '/operator', name: 'operator', component: OperatorHome, meta: { role: 'operator', title: 'nav.employers' } },
  {
    path: '/operator/employers/:dwzh',
    name: 'operator-employer',
    component: OperatorEmployer,
    props: true,
    meta: { role: 'operator', title: 'nav.employers' },
  },
  { path: '/operator/members', name: 'operator-member', component: OperatorMember, meta: { role: 'operator', title: 'nav.lookup' } },
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
