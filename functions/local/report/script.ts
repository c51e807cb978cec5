/**
 * The report page's one script (plain JavaScript as text; the page's Content-Security-Policy
 * allows it by its hash and nothing else):
 *
 * - the fleet table's search and filter by health (rows and their details hidden together);
 * - following a link to a target opens its details;
 * - a target's charts are drawn when its details open, from the numbers on its `<details>`
 *   (`data-charts`, see target.ts): at 500 targets the page carries about 1 KB of numbers per
 *   target instead of 3-4 KB of SVG, and the browser lays out only the charts someone opens.
 *
 * The chart functions are pure (numbers in, SVG text out) and live on `MH`, so a test can run
 * them without a browser (`vm.runInNewContext(PAGE_SCRIPT + ';MH')`).
 */
import { createHash } from 'node:crypto';

/** The script's text. */
export const PAGE_SCRIPT = `var MH=(()=>{
const TONE={ok:'#2e7d32',warning:'#f0a202',critical:'#c62828',unknown:'#8a8a8a'};
const STEP={connect:'#1f77b4',greeting:'#ff7f0e',ehlo:'#2ca02c',starttls:'#d62728',auth:'#9467bd',mail:'#8c564b',rcpt:'#e377c2',data:'#17becf',quit:'#bcbd22'};
const esc=s=>String(s).replace(/[&<>"']/g,c=>({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'})[c]);
const px=n=>String(Math.round(n));
const niceStep=max=>{if(max<=0)return 5;const raw=max/4,pow=10**Math.floor(Math.log10(raw));for(const m of [1,2,5,10])if(m*pow>=raw)return m*pow;return 10*pow};
const tick=(step,k)=>{let d=0;while(d<6&&Math.abs(Math.round(step*10**d)-step*10**d)>1e-9)d++;return String(Number((step*k).toFixed(d)))};
const MAX_DOTS=40;
function timeline(runs){const W=800,H=26,G=2;let slots=0;for(const r of runs)slots+=r[1];const cell=slots?Math.min(16,(W-G*(slots-1))/slots):0;let at=0,out='';
for(const [tone,span,title] of runs){out+='<rect x="'+(at*(cell+G)).toFixed(1)+'" y="2" width="'+(span*cell+(span-1)*G).toFixed(1)+'" height="'+(H-4)+'" rx="2" fill="'+(TONE[tone]||TONE.unknown)+'"><title>'+esc(title)+'</title></rect>';at+=span}
return '<svg class="chart timeline" viewBox="0 0 '+W+' '+H+'" width="100%" height="'+H+'" preserveAspectRatio="xMinYMid meet">'+out+'</svg>'}
function line(series,n,xLabels,unit){const W=800,H=240,L=56,R=12,T=24,B=28,pw=W-L-R,ph=H-T-B;let hi=0,count=0;
for(const s of series)for(const v of s[2])if(v!==null){hi=Math.max(hi,v);count++}
const step=niceStep(hi),ticks=Math.max(1,Math.ceil(hi/step)),max=step*ticks;
const x=i=>L+(n<=1?pw/2:i/(n-1)*pw),y=v=>T+ph-v/max*ph;const p=[];
for(let k=0;k<=ticks;k++){p.push('<path d="M'+L+' '+px(y(step*k))+'H'+(W-R)+'" stroke="#ddd"/><text x="'+(L-6)+'" y="'+px(y(step*k)+4)+'" text-anchor="end" font-size="11" fill="#555">'+tick(step,k)+'</text>')}
p.push('<text x="'+(L-6)+'" y="12" text-anchor="end" font-size="11" fill="#555">'+esc(unit)+'</text>');
const at=n<=1?[0]:[0,Math.floor((n-1)/2),n-1];at.forEach((i,j)=>{if(j>0&&i===at[j-1])return;const a=n<=1?'middle':i===0?'start':i===n-1?'end':'middle';p.push('<text x="'+px(x(i))+'" y="'+(H-8)+'" text-anchor="'+a+'" font-size="11" fill="#555">'+esc(xLabels[j]||'')+'</text>')});
for(const [name,colour,values] of series){let run=[];const flush=()=>{if(run.length>1)p.push('<polyline fill="none" stroke="'+esc(colour)+'" stroke-width="2" points="'+run.join(' ')+'"><title>'+esc(name)+'</title></polyline>');run=[]};
values.forEach((v,i)=>{if(v===null)flush();else run.push(px(x(i))+','+px(y(v)))});flush();
if(count<=MAX_DOTS)values.forEach((v,i)=>{if(v!==null)p.push('<circle cx="'+px(x(i))+'" cy="'+px(y(v))+'" r="2.5" fill="'+esc(colour)+'"><title>'+esc(name+': '+v+' '+unit)+'</title></circle>')})}
return '<svg class="chart line" viewBox="0 0 '+W+' '+H+'" width="100%">'+p.join('')+'</svg>'}
function charts(d){const out={};if(d.tl)out.tl=timeline(d.tl);
if(d.lat){const s=Object.keys(STEP).filter(k=>d.lat[k]).map(k=>[k,STEP[k],d.lat[k]]);out.lat=line(s,d.n,d.x,d.ms)}
if(d.rt)out.rt=line([[d.rt.name,'#1f77b4',d.rt.v]],d.rt.v.length,d.rt.x,d.rt.u);return out}
function draw(details){if(details.dataset.drawn)return;details.dataset.drawn='1';let d;try{d=JSON.parse(details.dataset.charts||'{}')}catch(e){return}
const svg=charts(d);for(const slot of details.querySelectorAll('[data-chart]'))if(svg[slot.dataset.chart])slot.innerHTML=svg[slot.dataset.chart]}
if(typeof document!=='undefined'){
const q=document.getElementById('fleet-search'),shown=document.getElementById('fleet-shown'),none=document.getElementById('fleet-none'),form=document.getElementById('fleet-controls');
const rows=[...document.querySelectorAll('#fleet-table tbody tr')].map(r=>({r,text:r.textContent.toLowerCase(),health:r.dataset.health,details:document.getElementById('t-'+r.dataset.name)}));
const apply=()=>{const t=q.value.trim().toLowerCase(),h=(form.querySelector('input[name=fleet-filter]:checked')||{}).value||'all';let n=0;
for(const x of rows){const on=(h==='all'||x.health===h)&&(!t||x.text.includes(t));x.r.hidden=!on;if(x.details)x.details.hidden=!on;if(on)n++}
shown.textContent=shown.dataset.template.replace('%d',n).replace('%d',rows.length);none.hidden=n>0};
const open=()=>{const d=document.getElementById(decodeURIComponent(location.hash.slice(1)));if(d&&d.tagName==='DETAILS'){d.hidden=false;d.open=true;draw(d)}};
document.addEventListener('toggle',e=>{if(e.target.open&&e.target.classList&&e.target.classList.contains('target'))draw(e.target)},true);
for(const d of document.querySelectorAll('details.target[open]'))draw(d);
window.addEventListener('hashchange',open);
if(q&&form){q.addEventListener('input',apply);form.addEventListener('change',apply);form.hidden=false;apply()}
open()}
return {timeline,line,charts,tick}})();`;

/** The Content-Security-Policy source that allows PAGE_SCRIPT and nothing else. */
export const PAGE_SCRIPT_SOURCE = `'sha256-${createHash('sha256').update(PAGE_SCRIPT).digest('base64')}'`;
