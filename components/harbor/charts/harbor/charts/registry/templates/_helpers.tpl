{{/* Objects are named <release>-registry, as the parent chart's core expects. */}}
{{- define "registry.fullname" -}}
{{ .Release.Name }}-{{ .Chart.Name }}
{{- end }}

{{- define "registry.labels" -}}
app.kubernetes.io/name: {{ .Release.Name }}
app.kubernetes.io/component: {{ .Chart.Name }}
{{- end }}
