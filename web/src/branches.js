// The centre's branch offices (管理部), as the table `branch` holds them (sql/*/0009_admin.sql):
// 00 is the city centre's own office, 01..04 the county offices. An operator without a branch
// (null) works for the whole centre. There is no API to list them; codes never change meaning.
import { t, has } from './i18n.js'

export const BRANCHES = ['00', '01', '02', '03', '04']

/** "02 滨海" (zh) or "02 Binhai (滨海)" (en); null or '' is the whole centre; an unknown code as is. */
export function branchLabel(code) {
  if (code === null || code === undefined || code === '') return t('branch.all')
  return has('branch.' + code) ? `${code} ${t('branch.' + code)}` : String(code)
}
