import { TOOLBAR_STRINGS } from './strings.ts';

/** JSON safe inside a <script> element. */
const inline = (v: unknown) => JSON.stringify(v).replace(/</g, '\\u003c');

/**
 * The agent toolbar (话务条), one self-contained page of a few kilobytes, no framework. Served at
 * `<base>/toolbar`: `<base>` is "" on the agent and `/devices/{mac}` on the edge, so it finds the API
 * at `<base>/coocenter-api` and its stream at `<base>/toolbar/stream`. It signs in with a toolbar
 * token from the URL fragment (never sent to a server, removed from the address at once) or pasted,
 * kept in this tab's sessionStorage.
 */
export const TOOLBAR_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Toolbar</title>
<style>
body{font:14px/1.4 system-ui,"PingFang SC","Microsoft YaHei",sans-serif;margin:0;background:#f4f5f7;color:#222}
main{max-width:560px;margin:0 auto;padding:12px}
header{display:flex;align-items:center;gap:10px;flex-wrap:wrap}
#state{font-weight:600;padding:6px 14px;border-radius:14px;background:#ddd}
#state[data-state=idle]{background:#c8efd0}#state[data-state=ringing]{background:#ffd36b}
#state[data-state=incall],#state[data-state=hold]{background:#9cc8ff}
#state[data-state=paused],#state[data-state=wrapup]{background:#ffb3a8}
#link{margin-left:auto;font-size:12px;color:#666}
section{background:#fff;border-radius:8px;padding:10px;margin-top:10px}
h2{font-size:13px;margin:0 0 6px;color:#555}
.row{display:flex;gap:6px;margin:4px 0;align-items:center}
input{flex:1;min-width:0;padding:5px}button{padding:5px 10px;cursor:pointer}
#note{min-height:1.4em;margin-top:8px}#note.error{color:#b00020}#note.ok{color:#17692a}
.q{display:flex;justify-content:space-between;padding:3px 0;border-bottom:1px solid #eee}
[hidden]{display:none!important}textarea{width:100%;height:5em}
</style></head><body><main>
<section id="signin" hidden><p data-t="tokenPrompt"></p><textarea id="token"></textarea>
<div class="row"><button id="use" data-t="signIn"></button></div></section>
<div id="panel" hidden>
<header><strong><span data-t="extension"></span> <span id="ext"></span></strong><span id="sup" data-t="supervisor" hidden></span>
<span id="state" data-state="unknown"></span><span id="countdown"></span><span id="link"></span></header>
<section id="call" hidden><div><span data-t="caller"></span>: <b id="caller"></b> <span id="callqueue"></span></div>
<div class="row"><a id="pop" target="_blank" rel="noopener" hidden data-t="openPop"></a></div></section>
<section><div class="row"><button id="pause" data-t="pause"></button><button id="unpause" data-t="unpause"></button><button id="hangup" data-t="hangup"></button></div>
<div class="row"><input id="dialnum" data-p="numberPlaceholder"><button id="dial" data-t="dial"></button></div>
<div class="row"><input id="xfernum" data-p="numberPlaceholder"><button id="transfer" data-t="transfer"></button></div>
<div class="row" id="spyrow" hidden><input id="spyext" data-p="extPlaceholder"><button id="listen" data-t="listen"></button></div></section>
<section><h2 data-t="queues"></h2><div id="queues"></div>
<div class="row"><input id="queuename" data-p="queuePlaceholder"><button id="login" data-t="login"></button></div></section>
<div class="row"><span id="note" role="status"></span><button id="signout" data-t="signOut" style="margin-left:auto"></button></div>
</div></main>
<script>
"use strict";
var ALL=${inline(TOOLBAR_STRINGS)};
var S=ALL[(navigator.languages||[navigator.language]).some(function(l){return /^zh/i.test(l)})?"zh":"en"];
document.documentElement.lang=S===ALL.zh?"zh-CN":"en";document.title=S.title;
document.querySelectorAll("[data-t]").forEach(function(e){e.textContent=S[e.dataset.t]});
document.querySelectorAll("[data-p]").forEach(function(e){e.placeholder=S[e.dataset.p]});
var $=function(id){return document.getElementById(id)};
var base=location.pathname.replace(/\\/toolbar\\/?$/,"");
var KEY="coocenter-toolbar:"+base,POPPED="coocenter-toolbar-popped:"+base;
var token=null,claims=null,es=null,popUrl=null,hint=-1,queues={},wrapEnd=0,ticker=0,ringCall=null;
function note(text,kind){var n=$("note");n.textContent=text||"";n.className=kind||""}
function decode(t){try{var p=t.split(".")[1].replace(/-/g,"+").replace(/_/g,"/");return JSON.parse(decodeURIComponent(escape(atob(p))))}catch(e){return null}}
function rid(){var a=new Uint8Array(12);crypto.getRandomValues(a);return Array.prototype.map.call(a,function(b){return(b+256).toString(16).slice(1)}).join("")}
function api(method,path,params){
  var init={method:method,headers:{Authorization:"Bearer "+token,Accept:"application/json"}};
  if(params){init.headers["Content-Type"]="application/x-www-form-urlencoded";init.headers["Idempotency-Key"]=rid();init.body=new URLSearchParams(params).toString()}
  return fetch(base+"/coocenter-api"+path,init).then(function(r){
    return r.json().catch(function(){return{}}).then(function(b){
      if(r.status===401){signOut(S.expired);throw new Error(S.expired)}
      if(!r.ok||b.status==="error"){var m=b.message||("HTTP "+r.status);note(m,"error");throw new Error(m)}
      return b})},function(e){note(S.network,"error");throw e})}
function act(path,params){return api("POST",path,params).then(function(b){note(b.message||S.done,"ok");return b})}
function isMine(name){return name.replace(/^[A-Za-z0-9_]+\\//,"").split(/[-@;\\/]/)[0]===claims.ext}
function refreshQueues(){return api("GET","/queues/queue-info").then(function(b){
  queues={};var d=b.data||{};Object.keys(d).forEach(function(q){d[q].forEach(function(m){if(isMine(m.name))queues[q]=m.paused==="1"})});render()}).catch(function(){})}
function refreshHint(){return api("GET","/extensions/extension-hints-status").then(function(list){
  (list||[]).forEach(function(h){if(h.extension===claims.ext)hint=Number(h.status)});render()}).catch(function(){})}
function state(){
  if(hint>0&&(hint&8))return"ringing";if(hint>0&&(hint&16))return"hold";if(hint>0&&(hint&3))return"incall";
  if(wrapEnd)return"wrapup";var qs=Object.keys(queues);if(qs.length&&qs.some(function(q){return queues[q]}))return"paused";
  if(hint===4)return"unavailable";if(hint===0)return"idle";return"unknown"}
function render(){
  var s=state();$("state").dataset.state=s;$("state").textContent=S["state_"+s];
  var left=wrapEnd?Math.max(0,Math.ceil((wrapEnd-Date.now())/1000)):0;
  $("countdown").textContent=s==="wrapup"?S.wrapupLeft.replace("{s}",left):"";
  var box=$("queues");box.textContent="";var qs=Object.keys(queues).sort();
  if(!qs.length){box.textContent=S.noQueues}
  qs.forEach(function(q){var row=document.createElement("div");row.className="q";row.dataset.queue=q;row.dataset.paused=queues[q]?"1":"0";
    var label=document.createElement("span");label.textContent=S.queue+" "+q+" · "+(queues[q]?S.paused:S.available);
    var b=document.createElement("button");b.textContent=S.logout;b.onclick=function(){act("/queues/agent-logout",{extension:claims.ext,queue:q}).then(refreshQueues)};
    row.appendChild(label);row.appendChild(b);box.appendChild(row)})}
function tick(){if(wrapEnd&&Date.now()>=wrapEnd+60000)wrapEnd=0;render()}
function setWrap(w){wrapEnd=w&&w.state==="begin"?Date.now()+w.remainingMs:0;render()}
function popped(){try{return JSON.parse(sessionStorage.getItem(POPPED)||"[]")}catch(e){return[]}}
function onRing(r){
  ringCall=r;$("call").hidden=false;$("caller").textContent=r.caller;$("callqueue").textContent=r.queue?S.queue+" "+r.queue:"";
  if(!popUrl)return;var seen=popped();if(seen.indexOf(r.callId)>=0)return;
  seen.push(r.callId);sessionStorage.setItem(POPPED,JSON.stringify(seen.slice(-50)));
  var u;try{u=new URL(popUrl,location.href)}catch(e){return}
  u.searchParams.set("caller",r.caller);u.searchParams.set("called",r.called);u.searchParams.set("callid",r.callId);u.searchParams.set("queue",r.queue);u.searchParams.set("extension",r.ext);
  $("pop").href=u.toString();$("pop").hidden=false;
  if(!window.open(u.toString(),"coocenter-pop"))note(S.popBlocked,"error")}
function connect(){
  if(es)es.close();$("link").textContent=S.connecting;
  es=new EventSource(base+"/toolbar/stream?token="+encodeURIComponent(token));
  es.onopen=function(){$("link").textContent=S.live};
  es.onerror=function(){if(!es)return;if(es.readyState===2){es=null;fetchCheck()}else $("link").textContent=S.reconnecting};
  es.addEventListener("snapshot",function(m){var d=JSON.parse(m.data);popUrl=d.popUrl;setWrap(d.wrapup);refreshHint();refreshQueues()});
  es.addEventListener("extensionstatus",function(m){var d=JSON.parse(m.data);if(d.exten===claims.ext){hint=Number(d.status);if(!(hint&8)&&!(hint&3)&&!(hint&16))$("call").hidden=true;render()}});
  es.addEventListener("ring",function(m){onRing(JSON.parse(m.data))});
  es.addEventListener("wrapup",function(m){setWrap(JSON.parse(m.data))});
  es.addEventListener("pause",function(){refreshQueues()});
  es.addEventListener("member",function(){refreshQueues()})}
function reconnect(){if(token&&!es)connect()}
function fetchCheck(){api("GET","/queues/queue-info").then(function(){setTimeout(reconnect,2000)},function(){setTimeout(reconnect,5000)})}
function signIn(t){
  claims=decode(t);if(!claims||!claims.ext){note(S.expired,"error");return showSignIn()}
  token=t;sessionStorage.setItem(KEY,t);$("signin").hidden=true;$("panel").hidden=false;
  $("ext").textContent=claims.ext;$("sup").hidden=!claims.supervisor;$("spyrow").hidden=!claims.supervisor;
  connect();clearInterval(ticker);ticker=setInterval(tick,250);render()}
function showSignIn(){$("panel").hidden=true;$("signin").hidden=false}
function signOut(msg){if(es){var e=es;es=null;e.close()}token=null;sessionStorage.removeItem(KEY);clearInterval(ticker);showSignIn();note(msg||"")}
$("use").onclick=function(){var t=$("token").value.trim();$("token").value="";if(t)signIn(t)};
$("signout").onclick=function(){signOut()};
function allQueues(state){var qs=Object.keys(queues);if(!qs.length)return refreshQueues();
  Promise.all(qs.map(function(q){return act("/queues/agent-pause",{queue:q,member:claims.ext,state:state})})).then(refreshQueues,refreshQueues)}
$("pause").onclick=function(){allQueues("on")};
$("unpause").onclick=function(){allQueues("off")};
$("hangup").onclick=function(){act("/extensions/hangup",{extension:claims.ext})};
$("dial").onclick=function(){var n=$("dialnum").value.trim();if(n)act("/extensions/click-number",{src:claims.ext,dst:n})};
$("transfer").onclick=function(){var n=$("xfernum").value.trim();if(n)act("/extensions/transfer",{src:claims.ext,dst:n})};
$("listen").onclick=function(){var n=$("spyext").value.trim();if(n)act("/extensions/extenSpy",{src:claims.ext,dst:n})};
$("login").onclick=function(){var q=$("queuename").value.trim();if(q)act("/queues/agent-login",{extension:claims.ext,queue:q}).then(refreshQueues)};
var m=/[#&]token=([^&]+)/.exec(location.hash);
if(m){history.replaceState(null,"",location.pathname+location.search);signIn(decodeURIComponent(m[1]))}
else if(sessionStorage.getItem(KEY))signIn(sessionStorage.getItem(KEY));else showSignIn();
</script></body></html>`;
